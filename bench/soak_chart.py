"""artifacts/soak.png: the workers' RSS and the group's lag over the soak, faults and phases marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    samples = report["samples"]
    minutes = [s["t"] / 60 for s in samples]
    fig, (memory, lag) = plt.subplots(2, 1, sharex=True, figsize=(11, 7))
    for key, label in (("rss_resident", "resident worker"), ("rss_spare", "spare worker (killed at worker faults)")):
        memory.plot(minutes, [None if s[key] is None else s[key] / 1e6 for s in samples], label=label)
    memory.set_ylabel("RSS (MB)")
    slope = report["memory"]
    memory.set_title(
        f"RSS slope (resident, 2nd half of the stream) {slope['rss_slope_mb_per_hour']} ± "
        f"{'?' if slope['rss_slope_stderr'] is None else slope['rss_slope_stderr']} MB/h; leak above {slope['leak_threshold_mb_per_hour']} MB/h"
        + ("" if slope.get("conclusive", True) else " (fit too short for a verdict)")
    )
    lag.plot(minutes, [s["lag"] for s in samples], color="tab:red", label="group lag (events)")
    lag.set_ylabel("lag (events)")
    lag.set_xlabel("minutes since start")
    colors = {"worker": "tab:purple", "broker": "tab:orange"}
    for axis in (memory, lag):
        for kind, color in colors.items():
            times = [f["t"] / 60 for f in report["faults"] if f["kind"] == kind]
            for i, t in enumerate(times):
                axis.axvline(t, color=color, linestyle="--", linewidth=1, label=f"{kind} SIGKILL" if i == 0 else None)
        for t in report["phases"].values():
            axis.axvline(t / 60, color="grey", linestyle=":", linewidth=1)
        axis.legend(loc="upper left", fontsize="small")
    for name, t in report["phases"].items():
        memory.annotate(
            name, (t / 60, 0.03), xycoords=("data", "axes fraction"), fontsize="small", rotation=90, va="bottom"
        )
    counts = report["counts"]
    fig.suptitle(
        f"soak: {counts['events_published']} events, {counts['faults']} faults; lost {counts['lost']}, "
        f"duplicated {counts['duplicated']}, stale {counts['stale']} (+{counts['stale_resent']} re-sent)"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
