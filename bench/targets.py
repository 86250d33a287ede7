"""The bench's targets: one list computed from a `make bench` result, the table rendered from it, the docs'
table regenerated from artifacts/bench.json.

Pure (no broker, no model): `targets(result)` turns the result dict that bench/run.py writes into a list
of rows, each a dict:
  group      the table's "#" (1 drain, 2 latency, 3 scale, 4 memory, 5 scale-out, 6 state store)
  name       what is measured
  figure     the figure, as displayed; `value` and `unit` give it as a number ("s", "B", "per_s", "count")
  reference  what it is compared with in the same run, as displayed
  ratio      figure / reference, or figure / the target's limit where the target is a sum of figures
             (memory); None where no ratio means anything
  target     the target, as displayed; "" when the row is reported only
  met        True / False against the target; None when the row is reported only
Only `group`..`met` are rendered; a missing section of the result (a `--stream-only` or `--state-only`
run) gives no rows.

`python -m bench.targets --write docs/performance.md` replaces the text between the markers
`<!-- bench-table -->` and `<!-- /bench-table -->` with the table and a line naming the run's settings,
date and machine; `--check FILE` exits 1 when FILE's table is not what artifacts/bench.json renders;
`--strict` exits 1 when artifacts/bench.json has a missed target (`--from PATH` reads another result).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MB = 2**20
START, END = "<!-- bench-table -->", "<!-- /bench-table -->"
DEFAULT_RESULT = Path(__file__).resolve().parent.parent / "artifacts" / "bench.json"

# the targets, in one place
DRAIN_MIN = 0.8  # drain rate / raw batched encode rate
LATENCY_P50_MAX = 2.0  # p50 / one in-process embed+rank
LATENCY_P99_MAX = 5.0
DENSE_MAX = 2.0  # dense retrieval / bare matrix-vector product
RANK_TIMES, RANK_PLUS_S = 2.0, 0.005  # full hybrid rank <= 2 x bare product + 5 ms
EDIT_MAX_US = 1e4  # an upsert or delete copies no matrix: far below 10 ms at any N
MEMORY_VECTORS_TIMES, MEMORY_PLUS = 1.5, 200 * MB  # peak <= baseline + 1.5 x vectors + 200 MB

Target = dict[str, Any]


def row(
    group: str,
    name: str,
    figure: str,
    reference: str,
    ratio: float | None,
    target: str,
    met: bool | None,
    value: float | None = None,
    unit: str = "",
) -> Target:
    return {
        "group": group,
        "name": name,
        "figure": figure,
        "reference": reference,
        "ratio": ratio,
        "target": target,
        "met": met,
        "value": value,
        "unit": unit,
    }


def drain_rows(r: dict) -> list[Target]:
    raw, drain = r["raw_encode"], r["drain"]
    ratio = drain["per_s_from_ready"] / raw["per_s"]
    return [
        row(
            "1",
            f"pipeline drain, {drain['events']:,} events, ready → last MatchResult",
            f"{drain['per_s_from_ready']:.1f} ev/s (from spawn {drain['per_s_from_spawn']:.1f})",
            f"raw batched encode {raw['per_s']:.1f} texts/s ({raw['torch_threads']} torch threads, batch {raw['batch']})",
            ratio,
            f"≥ {DRAIN_MIN}",
            ratio >= DRAIN_MIN,
            drain["per_s_from_ready"],
            "per_s",
        )
    ]


def latency_rows(r: dict) -> list[Target]:
    lat = r["latency"]
    one = lat["one_event_s"]
    p50, p99 = lat["p50_s"] / one, lat["p99_s"] / one
    return [
        row(
            "2",
            f"latency p50 at {lat['offered_per_s']:.1f} ev/s offered ({lat['with_results']:,} events)",
            f"{lat['p50_s'] * 1000:.0f} ms",
            f"embed+rank one event in-process {one * 1000:.0f} ms",
            p50,
            f"≤ {LATENCY_P50_MAX:g}",
            p50 <= LATENCY_P50_MAX,
            lat["p50_s"],
            "s",
        ),
        row(
            "2",
            "latency p99",
            f"{lat['p99_s'] * 1000:.0f} ms",
            "same",
            p99,
            f"≤ {LATENCY_P99_MAX:g}",
            p99 <= LATENCY_P99_MAX,
            lat["p99_s"],
            "s",
        ),
    ]


def dense_rows(r: dict) -> list[Target]:
    out = []
    for d in r["dense_scale"]:
        ratio = d["dense_retrieval_s"] / d["bare_s"]
        out.append(
            row(
                "3",
                f"dense retrieval (similarities, rules mask, top-2000 partial sort), N={d['n']:,}",
                f"{d['dense_retrieval_s'] * 1000:.2f} ms",
                f"bare matrix·vector {d['bare_s'] * 1000:.2f} ms",
                ratio,
                f"≤ {DENSE_MAX:g}",
                ratio <= DENSE_MAX,
                d["dense_retrieval_s"],
                "s",
            )
        )
    if r["dense_scale"]:
        big = r["dense_scale"][-1]
        worst = max(big["upsert_max_us"], big["delete_max_us"])
        out.append(
            row(
                "3",
                f"upsert / delete at N={big['n']:,} (median, max of 100)",
                f"{big['upsert_us']:.0f} / {big['delete_us']:.0f} µs "
                f"(max {big['upsert_max_us']:.0f} / {big['delete_max_us']:.0f})",
                "O(d), no copy",
                None,
                "not O(N)",
                worst < EDIT_MAX_US,
                worst / 1e6,
                "s",
            )
        )
    return out


def rank_limit_s(bare_s: float) -> float:
    return RANK_TIMES * bare_s + RANK_PLUS_S


def rank_rows(r: dict) -> list[Target]:
    out = []
    for size, t in sorted(r["rank_full"].items(), key=lambda item: int(item[0])):
        limit = rank_limit_s(t["bare_product_s"])
        out.append(
            row(
                "3",
                f"full rank_companies (pool 2000, hybrid), N={int(size):,}, 3 queries",
                f"median {t['median_s'] * 1000:.1f} ms",
                f"bare matrix·vector {t['bare_product_s'] * 1000:.2f} ms",
                t["median_s"] / t["bare_product_s"],
                f"≤ {RANK_TIMES:g} × bare + {RANK_PLUS_S * 1000:g} ms = {limit * 1000:.1f} ms",
                t["median_s"] <= limit,
                t["median_s"],
                "s",
            )
        )
    return out


def memory_limit(m: dict) -> float:
    return m["rss_baseline"] + MEMORY_VECTORS_TIMES * m["vector_bytes"] + MEMORY_PLUS


STORE_NAMES = {
    "memory": "memory store (table records on the heap)",
    "rocksdb": "RocksDB store (table records on disk, the worker's options)",
}


def memory_rows(r: dict) -> list[Target]:
    out = []
    for store, m in r["memory"].items():
        limit = memory_limit(m)
        rest = m["rss_ranker"] - m["vector_bytes"] - m["signal_bytes"]
        other = m["peak_rss"] - m["rss_baseline"] - m["rss_table_records"] - m["rss_ranker"]
        disk = f" ({m['table_disk_bytes'] / MB:,.0f} MB on disk)" if m.get("table_disk_bytes") else ""
        out.append(
            row(
                "4",
                f"peak RSS, {m['n']:,} companies in-process, {STORE_NAMES.get(store, store)}",
                f"{m['peak_rss'] / MB:,.0f} MB",
                f"baseline (imports + model) {m['rss_baseline'] / MB:,.0f} MB + table records "
                f"{m['rss_table_records'] / MB:,.0f} MB{disk} + Ranker {m['rss_ranker'] / MB:,.0f} MB (vectors "
                f"{m['vector_bytes'] / MB:,.0f}, signal rows {m['signal_bytes'] / MB:,.0f}, rest {rest / MB:,.0f}) "
                f"+ other {other / MB:,.0f} MB",
                m["peak_rss"] / limit,
                f"≤ baseline + {MEMORY_VECTORS_TIMES:g} × vectors + {MEMORY_PLUS / MB:.0f} MB = {limit / MB:,.0f} MB",
                m["peak_rss"] <= limit,
                m["peak_rss"],
                "B",
            )
        )
    return out


def scale_out_rows(r: dict) -> list[Target]:
    so = r["scale_out"]
    return [
        row(
            "5",
            f"scale-out: challenge match_ids, 1 vs 3 workers ({so['companies']} co + {so['challenges']} ch)",
            f"{so['one']} vs {so['three']}",
            "",
            None,
            "equal",
            bool(so["equal"]),
            so["three"],
            "count",
        )
    ]


def _s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.1f} s"


def _over(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def state_rows(results: list[dict]) -> list[Target]:
    """A worker's restart with N companies stored, RocksDB against the memory store, same changelog. The
    restart times are reported only (the issue sets no target for them); the RSS row keeps `< 1`."""
    out = []
    for r in results:
        rocks, mem, first = r["rocksdb_restart"], r["memory"], r["rocksdb_first_start"]
        n = f"{r['n']:,}"
        out.append(
            row(
                "6",
                f"state store, {n} companies: restart (SIGTERM, start) → tables recovered (Faust's log)",
                f"rocksdb {_s(rocks['recovered_log_s'])} ({rocks['changelog_records_read']:,.0f} changelog records read)",
                f"memory {_s(mem['recovered_log_s'])} ({mem['changelog_records_read']:,.0f} read)",
                _over(rocks["recovered_log_s"], mem["recovered_log_s"]),
                "",
                None,
                rocks["recovered_log_s"],
                "s",
            )
        )
        out.append(
            row(
                "6",
                f"state store, {n} companies: restart → index built, every shard's Ranker (/readyz 200 at)",
                f"rocksdb {_s(rocks['indexed_s'])} ({_s(rocks['ready_s'])}; first start, empty data dir: "
                f"{_s(first['indexed_s'])})",
                f"memory {_s(mem['indexed_s'])} ({_s(mem['ready_s'])})",
                _over(rocks["indexed_s"], mem["indexed_s"]),
                "",
                None,
                rocks["indexed_s"],
                "s",
            )
        )
        rss = rocks["rss_bytes"] / mem["rss_bytes"]
        out.append(
            row(
                "6",
                f"state store, {n} companies: worker RSS, index built",
                f"rocksdb {rocks['rss_bytes'] / MB:,.0f} MB (data dir {r['rocksdb_disk_bytes'] / MB:,.0f} MB on disk)",
                f"memory {mem['rss_bytes'] / MB:,.0f} MB",
                rss,
                "< 1",
                rss < 1,
                rocks["rss_bytes"],
                "B",
            )
        )
    return out


ALERT_TIMES = 2.0  # alert fan-out for one challenge <= 2 x the shortlist's own ranking, same run


def alert_rows(r: dict) -> list[Target]:
    """Rows 7: finding every subscribed company at or above its threshold, against the shortlist's ranking."""
    result = r["alerts"]
    lo, hi = result["thresholds"]
    out = []
    for a in result["rows"]:
        built = f", built at {a['per_alert_us']:.0f} µs each" if a["per_alert_us"] is not None else ""
        out.append(
            row(
                "7",
                f"alert fan-out, N={a['n']:,}, {a['subscribed_share']:.0%} subscribed (thresholds {lo}-{hi}): "
                f"alerts emitted for 3 challenges {'/'.join(str(e) for e in a['emitted'])}{built}",
                f"{a['selection_s'] * 1000:.1f} ms",
                f"shortlist ranking {a['shortlist_s'] * 1000:.1f} ms",
                a["ratio"],
                f"≤ {ALERT_TIMES:g}",
                a["ratio"] <= ALERT_TIMES,
                a["selection_s"],
                "s",
            )
        )
    return out


SECTIONS = (
    (("raw_encode", "drain"), drain_rows),
    (("latency",), latency_rows),
    (("dense_scale",), dense_rows),
    (("rank_full",), rank_rows),
    (("memory",), memory_rows),
    (("scale_out",), scale_out_rows),
)


def targets(result: dict) -> list[Target]:
    """Every row the result has the measurements for, in the table's order."""
    out: list[Target] = []
    for keys, rows in SECTIONS:
        if all(result.get(k) for k in keys):
            out += rows(result)
    out += state_rows(result.get("state_store") or [])
    if result.get("alerts"):
        out += alert_rows(result)
    return out


def missed(rows: list[Target]) -> list[Target]:
    return [t for t in rows if t["met"] is False]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(rows: list[Target]) -> str:
    """The markdown table, from the targets alone."""
    verdict = {True: "met", False: "NOT met", None: "reported"}
    lines = ["| # | measure | figure | reference (same run) | ratio | target | |", "|---|---|---|---|---|---|---|"]
    for t in rows:
        ratio = "" if t["ratio"] is None else f"{t['ratio']:.2f}"
        cells = (t["group"], t["name"], t["figure"], t["reference"], ratio, t["target"], verdict[t["met"]])
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    return "\n".join(lines)


def _setting(name: str, value: Any) -> str:
    if name == "embed_batch_window" and not value:
        return f"{name} 0 (adaptive)"
    if name == "torch_threads" and value is None:
        return f"{name} torch's choice"
    return f"{name} {value}"


def provenance(result: dict) -> str:
    """One line: which run, settings and machine produced the table."""
    settings = result.get("settings") or {}
    machine = result.get("machine") or {}
    parts = [_setting(k, v) for k, v in settings.items()]
    threads = (result.get("raw_encode") or {}).get("torch_threads")
    where = ", ".join(
        p
        for p in (
            machine.get("cpu_model"),
            f"{machine['cpus']} CPUs" if machine.get("cpus") else None,
            f"{machine['memory_bytes'] / 2**30:.0f} GiB RAM" if machine.get("memory_bytes") else None,
            f"load average {machine['loadavg_start']:.1f} at the start" if "loadavg_start" in machine else None,
        )
        if p
    )
    total = f"; {result['total_seconds']:.0f} s in all" if "total_seconds" in result else ""
    return (
        f"Generated from `artifacts/bench.json` (`python -m bench.targets --write docs/performance.md`): "
        f"`make bench` of {result.get('date', 'an undated run')}{total}, on {where or 'an unrecorded machine'}; "
        f"settings: {', '.join(parts) or 'not recorded'}"
        + (f" ({threads} torch threads used)" if threads else "")
        + "."
    )


def block(result: dict) -> str:
    """What goes between the markers: the result's own targets (computed again for an older result)."""
    return f"{render(result.get('targets') or targets(result))}\n\n{provenance(result)}"


def replace_block(text: str, new: str) -> str:
    """`text` with the part between the markers replaced by `new`; ValueError when the markers are missing."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} markers")
    return f"{text[: start + len(START)]}\n{new}\n{text[end:]}"


def current_block(text: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} markers")
    return text[start + len(START) : end].strip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, default=DEFAULT_RESULT, help="the bench's result JSON")
    parser.add_argument("--write", type=Path, help="replace the table between the markers in this file")
    parser.add_argument("--check", type=Path, help="exit 1 when this file's table is not what the result renders")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"{args.source}: no bench result; run `make bench` first", file=sys.stderr)
        return 2
    result = json.loads(args.source.read_text())
    rows = result.get("targets") or targets(result)
    wanted = block(result)
    status = 0
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), wanted))
        print(f"{args.write}: table written from {args.source}", file=sys.stderr)
    if args.check and current_block(args.check.read_text()) != wanted:
        print(
            f"{args.check}: the table is not what {args.source} renders; "
            f"run `python -m bench.targets --write {args.check}`",
            file=sys.stderr,
        )
        status = 1
    if not (args.write or args.check):
        print(wanted)
    if args.strict and missed(rows):
        for t in missed(rows):
            print(f"target missed: {t['name']}: {t['figure']} (target {t['target']})", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
