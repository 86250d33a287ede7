"""`make soak`: hours of steady traffic with crashes, checked against an offline ranking of the final state.

On the local three-broker cluster (replication 3, min.insync.replicas 2; started here unless it runs),
in a fresh namespace, two `matchmaker worker` processes take a steady stream of new challenges and
companies, profile updates, company tombstones and withdrawals, challenge edits and closures
(bench.soak_workload). Every MATCHMAKER_SOAK_FAULT_EVERY seconds a fault strikes, alternately: the
second worker is SIGKILLed and a new one started (the first, the "resident", lives all run long: its
RSS is the memory curve), or a broker is SIGKILLed (nodes 1, 2, 3 in turn) and restarted
MATCHMAKER_SOAK_BROKER_DOWN seconds later.

At the end the group drains, and every open challenge, then every live company, is published once more
with a new version and the same content: the rankings of those versions must be exactly the offline
ranking (`matcher`, as `matchmaker rank`) of the final state, which every event of the run shaped.
The verdicts are bench.soak_check's; artifacts/soak.json holds settings, counts, samples and faults,
artifacts/soak.png the worker RSS and the group lag over time with the faults marked.
`--strict` exits 1 when anything was lost, unanswered or stale, or memory leaks.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import data
from bench.kafka import vm_status
from bench.soak_check import (
    Emitted,
    duplicated,
    leak,
    lost,
    settled_versions,
    stale,
    steps,
    unanswered,
    unexpected,
)
from bench.soak_workload import Event, Workload
from schemas import Challenge, CompanyProfile, match_id_for
from services.kafka import clients
from services.kafka.local import LocalBroker
from services.kafka.publisher import Publisher
from services.kafka.results import read_matches
from services.model_env import use_offline_models
from services.ops.progress import group_lag, wait_until_drained, worker_topics
from services.settings import PROJECT_ROOT, Settings
from tests.support.broker import free_port, make_namespace
from tests.support.processes import WorkerProcess

ARTIFACTS = PROJECT_ROOT / "artifacts"


def say(*args: object) -> None:
    print("[soak]", *args, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SoakSettings:
    """The soak's knobs, from MATCHMAKER_SOAK_* variables (README, "Soak")."""

    minutes: float = 30.0  # the steady stream's length
    rate: float = 2.0  # events per second
    fault_every: float = 300.0  # seconds between faults (worker and broker in turn)
    broker_down: float = 15.0  # seconds a killed broker stays down
    sample_every: float = 5.0  # seconds between RSS and lag samples
    kafka_port: int = 59300  # the cluster's first node (the others on +10, +20)
    leak_mb_per_hour: float = 50.0
    leak_min_minutes: float = 10.0  # a shorter fit (a short run) gives a slope but no verdict
    fault_settle: float = 90.0  # seconds after a fault left out of the memory fit (a takeover, a rejoin)
    companies: int = 100  # loaded before the stream starts
    challenges: int = 12
    unanswered_grace: float = 120.0  # a challenge version replaced sooner than this may never be ranked
    seed: int = 7

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SoakSettings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for name, default in asdict(cls()).items():
            raw = env.get(f"MATCHMAKER_SOAK_{name.upper()}")
            if raw is not None:
                values[name] = type(default)(raw)
        return cls(**values)


@dataclass
class Sample:
    t: float  # seconds since the soak started
    rss_resident: int | None
    rss_spare: int | None
    lag: int | None
    results: int | None  # records in the matches topic so far


@dataclass
class Fault:
    t: float
    kind: str  # "worker" or "broker"
    detail: str


@dataclass
class Run:
    """What happened, filled in as the soak goes."""

    started: float = field(default_factory=time.time)
    published: int = 0
    publish_retries: int = 0
    samples: list[Sample] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds since start
    challenge_versions: list[tuple[str, int, float, bool]] = field(default_factory=list)  # (id, version, at, open)
    spares: int = 1

    def now(self) -> float:
        return time.time() - self.started


class Sampler(threading.Thread):
    """RSS of both workers, the group's total lag and the matches topic's size, every `every` seconds."""

    def __init__(self, soak: Soak, every: float) -> None:
        super().__init__(daemon=True, name="soak-sampler")
        self.soak, self.every = soak, every
        self.done = threading.Event()
        self.admin: Any = None

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.soak.run.samples.append(self.sample())
        if self.admin is not None:
            self.admin.close()

    def sample(self) -> Sample:
        soak = self.soak
        lag = results = None
        try:
            if self.admin is None:
                self.admin = clients.admin(soak.settings, client_id="matchmaker-soak")
            rows = group_lag(self.admin, soak.settings.app_id, worker_topics(soak.settings))
            lag = sum(r.lag for r in rows)
            ends = group_lag(self.admin, "matchmaker-soak-none", [soak.settings.topic_matches])
            results = sum(r.end for r in ends)
        except Exception:  # a broker down, the coordinator moving: no figure this time
            if self.admin is not None:
                self.admin.close()
            self.admin = None
        return Sample(round(soak.run.now(), 1), rss(soak.resident), rss(soak.spare), lag, results)


def rss(worker: WorkerProcess | None) -> int | None:
    if worker is None or not worker.alive:
        return None
    try:
        return vm_status(worker.process.pid).get("VmRSS")
    except OSError:
        return None


class Soak:
    def __init__(self, conf: SoakSettings, cluster: Settings) -> None:
        self.conf = conf
        self.broker = LocalBroker(cluster)
        self.settings = make_namespace(cluster)
        self.run = Run()
        expected_new = int(conf.rate * conf.minutes * 60 * 0.2) + conf.companies + 50
        self.workload = Workload(
            data.companies(expected_new, seed=conf.seed, prefix="sco"),
            data.challenges(int(conf.rate * conf.minutes * 60 * 0.15) + conf.challenges + 20, seed=conf.seed + 1),
            seed=conf.seed,
        )
        self.resident = WorkerProcess(self.settings, name="resident")
        self.spare: WorkerProcess | None = self._new_spare()
        self.restarting: threading.Thread | None = None
        self.next_node = 1

    def _new_spare(self) -> WorkerProcess:
        settings = self.settings.model_copy(update={"worker_web_port": free_port()})
        return WorkerProcess(settings, name=f"spare-{self.run.spares}")

    # -- the run ------------------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        sampler = Sampler(self, self.conf.sample_every)
        publisher = Publisher.from_settings(self.settings)
        try:
            self.resident.wait_ready(timeout=300)
            assert self.spare is not None
            self.spare.wait_ready(timeout=300)
            sampler.start()
            self.phase("load")
            for event in self.workload.initial(self.conf.companies, self.conf.challenges):
                self.publish(publisher, event)
            self.drain()
            self.phase("stream")
            self.stream(publisher)
            self.phase("drain")
            if self.restarting is not None:
                self.restarting.join()
            self.broker.up(timeout=180)
            self.drain()
            self.phase("sweep")
            companies_before = self.workload.live_companies
            for kind in ("challenges", "companies"):
                for event in self.workload.sweep(kind):
                    self.publish(publisher, event)
                publisher.flush(timeout=120)
                self.drain()
            self.phase("end")
        finally:
            sampler.done.set()
            publisher.close()
            for worker in (self.resident, self.spare):
                if worker is not None:
                    worker.stop()
        sampler.join(timeout=30)
        say("reading the results and ranking the final state offline ...")
        results = [Emitted.of(r) for r in read_matches(self.settings)]
        return self.verdict(results, companies_before)

    def phase(self, name: str) -> None:
        self.run.phases[name] = round(self.run.now(), 1)
        say(f"{name} at {self.run.now():.0f} s")

    def drain(self) -> None:
        wait_until_drained(self.settings, timeout=900, alive=lambda: self.resident.alive)

    def publish(self, publisher: Publisher, event: Event) -> None:
        """Publish one event and wait for its acknowledgement; retried (same version) while brokers move."""
        for attempt in range(10):
            try:
                if event.entity is None:
                    assert event.company_id is not None
                    publisher.delete_company(event.company_id)
                elif isinstance(event.entity, Challenge):
                    publisher.publish_challenge(event.entity)
                else:
                    publisher.publish_company(event.entity)
                publisher.flush(timeout=60)
                break
            except Exception:
                if attempt == 9:
                    raise
                self.run.publish_retries += 1
                time.sleep(2.0)
        self.run.published += 1
        if isinstance(event.entity, Challenge):
            challenge = event.entity
            self.run.challenge_versions.append(
                (challenge.challenge_id, challenge.version, self.run.now(), challenge.status == "open")
            )

    def stream(self, publisher: Publisher) -> None:
        conf = self.conf
        start = time.monotonic()
        end = start + conf.minutes * 60
        next_fault, next_line, n = start + conf.fault_every, start + 60, 0
        while (now := time.monotonic()) < end:
            self.publish(publisher, self.workload.next_event())
            n += 1
            if now >= next_fault:
                self.fault()
                next_fault += conf.fault_every
            if now >= next_line:
                self.progress()
                next_line += 60
            time.sleep(max(0.0, start + n / conf.rate - time.monotonic()))

    def fault(self) -> None:
        """A worker and a broker in turn: SIGKILL (no goodbye to the group, nothing flushed)."""
        if len(self.run.faults) % 2 == 0:
            assert self.spare is not None
            self.spare.kill()
            self.run.spares += 1
            self.spare = self._new_spare()
            self.run.faults.append(Fault(round(self.run.now(), 1), "worker", "SIGKILL of the spare worker"))
            return
        if self.restarting is not None and self.restarting.is_alive():
            return  # the last broker is not back yet; never two down at once (min.insync.replicas 2)
        node, self.next_node = self.next_node, self.next_node % 3 + 1
        pid = self.broker.pid(node)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        self.run.faults.append(Fault(round(self.run.now(), 1), "broker", f"SIGKILL of broker {node}"))

        def restart() -> None:
            time.sleep(self.conf.broker_down)
            self.broker.up(timeout=180)

        self.restarting = threading.Thread(target=restart, daemon=True, name="soak-broker-restart")
        self.restarting.start()

    def progress(self) -> None:
        last = self.run.samples[-1] if self.run.samples else Sample(0, None, None, None, None)
        say(
            f"{self.run.now() / 60:5.1f} min: {self.run.published} events published, {last.results} results, "
            f"lag {last.lag}, RSS {mb(last.rss_resident)} + {mb(last.rss_spare)} MB, {len(self.run.faults)} faults"
        )

    # -- the verdict --------------------------------------------------------------------------
    def verdict(self, results: list[Emitted], companies_before: list[CompanyProfile]) -> dict[str, Any]:
        from transformers.utils import logging as transformers_logging

        from matcher import load_embedder
        from matcher.offline import build_ranker

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the soak's output

        challenges, companies = self.workload.open_challenges, self.workload.live_companies
        s = self.settings
        ranker, vectors = build_ranker(challenges, companies_before, load_embedder(s.model), s.top_k, s.min_score)
        matches = [m for c in challenges for m in ranker.rank_companies(c, vectors[c.challenge_id])]
        matches += [m for c in companies for m in ranker.rank_challenges(c, vectors[c.company_id])]
        offline = {
            match_id_for(m.challenge_id, m.challenge_version, m.company_id, m.company_version): m for m in matches
        }
        expected = set(offline)
        probes = {("challenge", c.challenge_id, c.version) for c in challenges}
        probes |= {("company", c.company_id, c.version) for c in companies}
        run = self.run
        resident = [(x.t, float(x.rss_resident)) for x in run.samples if x.rss_resident is not None]
        stream = [x for x in resident if run.phases["stream"] <= x[0] <= run.phases["drain"]]
        fault_times = [f.t for f in run.faults]
        verdict = leak(stream, self.conf.leak_mb_per_hour, fault_times, self.conf.fault_settle)
        worker_faults = [f.t for f in run.faults if f.kind == "worker"]
        conclusive = verdict.slope.seconds >= self.conf.leak_min_minutes * 60
        stale_ = stale(results)
        missing, extra = lost(expected, results), unexpected(expected, probes, results)
        emitted = {r.match_id: r for r in results}
        settled = settled_versions(run.challenge_versions, self.conf.unanswered_grace)
        counts = {
            "events_published": run.published,
            "publish_retries": run.publish_retries,
            "results": len(results),
            "expected_final": len(expected),
            "lost": len(missing),
            "unexpected": len(extra),
            "unanswered": len(unanswered(settled, results)),
            "duplicated": duplicated(results),
            "stale": stale_.first,
            "stale_resent": stale_.resent,
            "faults": len(run.faults),
        }
        memory = {
            "rss_slope_mb_per_hour": round(verdict.slope.mb_per_hour, 2),
            "rss_slope_stderr": round(verdict.slope.stderr, 2) if math.isfinite(verdict.slope.stderr) else None,
            "fitted_seconds": round(verdict.slope.seconds, 1),
            "fitted_samples": verdict.slope.samples,
            "leak_threshold_mb_per_hour": verdict.threshold_mb_per_hour,
            "conclusive": conclusive,
            "leak": verdict.leaking if conclusive else None,
            "rss_mb_last": mb(int(resident[-1][1])) if resident else None,
            "takeover_steps_mb": steps(resident, worker_faults, self.conf.fault_settle, 120.0),
        }
        return {
            "settings": asdict(self.conf),
            "namespace": s.app_id,
            "counts": counts,
            "memory": memory,
            "stale_examples": list(stale_.examples),
            "lost_examples": [describe(asdict(offline[i]), "offline") for i in sorted(missing)[:20]],
            "unexpected_examples": [describe(asdict(emitted[i]), "emitted") for i in sorted(extra)[:20]],
            "phases": run.phases,
            "faults": [asdict(f) for f in run.faults],
            "samples": [asdict(x) for x in run.samples],
        }


def describe(match: dict[str, Any], source: str) -> str:
    """One line for a match that is lost or unexpected: which pair, which versions, where it ranked."""
    return (
        f"{source}: {match['challenge_id']} v{match['challenge_version']} / {match['company_id']} "
        f"v{match['company_version']}, rank {match['rank']}, score {match['score']}"
    )


def mb(value: int | None) -> int | None:
    return None if value is None else round(value / 1e6)


def failed(report: dict[str, Any]) -> list[str]:
    """What makes `--strict` fail."""
    counts = report["counts"]
    reasons = [f"{name} {counts[name]}" for name in ("lost", "unexpected", "unanswered", "stale") if counts[name]]
    if report["memory"]["leak"]:
        reasons.append(f"leak ({report['memory']['rss_slope_mb_per_hour']} MB/h)")
    return reasons


def quiet_logs() -> None:
    """Only the soak's own lines: the Kafka clients' reconnect warnings while a broker is down are expected."""
    logging.basicConfig(level=logging.ERROR)
    for name in ("kafka", "aiokafka", "matchmaker"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when lost, unanswered, stale or leaking")
    args = parser.parse_args(argv)
    use_offline_models()  # this process ranks offline at the end; the workers inherit the environment
    quiet_logs()
    conf = SoakSettings.from_env()
    cluster = Settings(kafka_port=conf.kafka_port, kafka_brokers=3)
    broker = LocalBroker(cluster)
    was_running = broker.status().running
    say(
        f"{conf.minutes} min at {conf.rate} events/s, a fault every {conf.fault_every:.0f} s, cluster on {conf.kafka_port}"
    )
    broker.up(timeout=180)
    try:
        report = Soak(conf, cluster).execute()
    finally:
        if not was_running:
            broker.down()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "soak.json").write_text(json.dumps(report, indent=1))
    from bench.soak_chart import chart

    chart(report, ARTIFACTS / "soak.png")
    print(json.dumps({"counts": report["counts"], "memory": report["memory"]}, indent=1))
    print(f"artifacts: {ARTIFACTS / 'soak.json'}, {ARTIFACTS / 'soak.png'}")
    reasons = failed(report)
    if reasons:
        say("FAILED: " + ", ".join(reasons))
    return 1 if args.strict and reasons else 0


if __name__ == "__main__":
    sys.exit(main())
