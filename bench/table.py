"""The table `make bench` prints: each measure, its value, its target, met or NOT."""

from __future__ import annotations

from typing import Any, Callable, Iterator

Row = tuple[str, Any, str, "bool | None"]  # measure, value, target, met (None: for information)


def rows(r: dict) -> Iterator[Row]:
    def section(name: str, make: Callable[[dict], Iterator[Row]]) -> Iterator[Row]:
        if name not in r:
            return
        if "error" in r[name]:
            yield (f"{name}: CRASHED", r[name]["error"][:40], "", False)
            return
        yield from make(r[name])

    yield from section("idle_cycle", lambda m: iter([
        (f"idle-cycle API reads, {m['open_threads']} open threads", m["read_calls"], f"<= {m['target']}",
         m["read_calls"] <= m["target"])]))
    yield from section("after_mirroring", lambda m: iter([
        (f"reads of the cycle after mirroring {m['mirrored']} items", m["read_calls"], f"<= {m['target']}",
         m["read_calls"] <= m["target"])]))
    yield from section("quiet_ticket", lambda m: iter([
        ("Zendesk polls until a day-quiet ticket's comment is in Slack", m["zendesk_polls"], "1",
         m["zendesk_polls"] == 1)]))
    yield from section("latency", latency_rows)
    yield from section("export_budget", lambda m: iter([
        ("export calls in the busiest minute (1 s polls)", m["busiest_minute_calls"], f"<= {m['target_calls']}",
         m["busiest_minute_calls"] <= m["target_calls"]),
        ("429s in that run (Zendesk's real limits on)", m["answers_429"], "0", m["answers_429"] == 0)]))
    yield from section("rss", rss_rows)
    yield from section("catch_up", lambda m: iter([
        ("catch-up 5,000 + 5,000: zsc-side CPU per item (ms)", round(m["zsc_cpu_ms_per_item"], 2),
         f"<= {m['target_zsc_cpu_ms_per_item']:g}", m["zsc_cpu_ms_per_item"] <= m["target_zsc_cpu_ms_per_item"]),
        ("  ... items/s: zsc-side / all sync-thread CPU / wall",
         f"{m['items_per_second_zsc_side']} / {m['items_per_second_cpu']} / {m['items_per_second_wall']}", "-", None)]))
    yield from section("help", lambda m: iter([
        ("zsc --help (ms, median of 7)", m["median_ms"], f"<= {m['target_ms']}", m["median_ms"] <= m["target_ms"])]))
    yield from section("status", lambda m: iter([
        ("zsc status (ms, median of 7)", m["median_ms"], f"<= {m['target_ms']}", m["median_ms"] <= m["target_ms"])]))
    if "bench_peak_rss_mib" in r:
        yield ("peak RSS of the bench process (MiB, simulator incl.)", r["bench_peak_rss_mib"], "-", None)


def latency_rows(m: dict) -> Iterator[Row]:
    names = {"slack_to_zendesk": "Slack -> Zendesk", "zendesk_to_slack": "Zendesk -> Slack"}
    for direction, label in names.items():
        for kind in ("hot", "quiet"):
            one = m[f"{direction}_{kind}"]
            p95 = one["p95_s"]
            met = p95 is not None and p95 <= one["target_p95_s"] and not one["missing"]
            missing = f", {one['missing']} missing" if one["missing"] else ""
            yield (f"{label}, {kind} tickets: p50 / p95 (s)", f"{one['p50_s']} / {p95}{missing}",
                   f"p95 <= {one['target_p95_s']:g}", met)
    yield ("429s in the latency run", m["answers_429"], "0", m["answers_429"] == 0)


def rss_rows(m: dict) -> Iterator[Row]:
    growth = m["growth_mib_per_1000_cycles"]
    yield (f"steady RSS of zsc run, SQLite, after {m['cycles_measured']} more cycles (MiB)", m["steady_rss_mib"],
           f"<= {m['target_rss_mib']}", m["steady_rss_mib"] <= m["target_rss_mib"])
    yield ("  ... its growth per 1,000 cycles (MiB, fitted)", growth,
           f"<= {m['target_growth_mib_per_1000_cycles']:g}",
           growth is not None and growth <= m["target_growth_mib_per_1000_cycles"])


def print_table(results: dict) -> None:
    print(f"\nzsc bench (simulated round trip {results['rtt_ms']:g} ms where it matters; see bench/results.json)")
    print(f"{'measure':<64} {'value':>20}  {'target':<12} met")
    for name, value, target, met in rows(results):
        shown = "" if met is None else ("yes" if met else "NOT")
        print(f"{name:<64} {str(value):>20}  {target:<12} {shown}")
    if "latency" in results and "error" not in results["latency"]:
        m = results["latency"]
        print(f"latency run: Slack every {m['slack_interval']:g} s, Zendesk every {m['zendesk_interval']:g} s, "
              f"{m['rtt_ms']} ms per call; targets are interval + 2 s")
    for name in ("idle_cycle", "after_mirroring"):
        if name in results and "by_endpoint" in results[name]:
            print(f"{name} reads by endpoint: {results[name]['by_endpoint']}")
