"""The A/B comparisons kept in BENCHMARKS.md: figures of alternating runs of old and new code, measured once.

Each was measured by hand with a worktree of the old commit beside the new code (README, "Benchmarks");
the figures are kept here, not in the results file, so a fresh run of the benchmarks keeps them.
"""

from __future__ import annotations

from typing import Any

from bench.figures import E2E, RELAY, ab_table
from bench.figures import each as _each
from bench.figures import median as _median

__all__ = [
    "CODEC_AB",
    "DESK_NEWS_AB",
    "FILES_AB",
    "MEMORY_AB",
    "RELAY_AB",
    "RESHAPE_AB",
    "SUPERVISORS_AB",
    "desk_news_section",
    "files_section",
    "relay_ab",
    "reshape_section",
    "supervisors_ab_section",
]


# The relay benchmark, A/B of the change that made delivery come from the record (commit 49eb57b)
# against the commit before it (f19c98a): alternating runs of `python -m bench relay`'s run(per_customer=500,
# rounds=3), each side 4 times, on 2026-12-01. Messages per second of the engine, and the run's median ratio.
RELAY_AB: dict[str, list[tuple[float, float]]] = {
    "before": [(43551, 0.538), (49952, 0.574), (34485, 0.488), (35596, 0.413)],
    "after": [(33076, 0.515), (51168, 0.529), (37857, 0.470), (38828, 0.515)],
}


# The memory benchmark, the same A/B: KiB per widget socket, three alternating runs each.
MEMORY_AB = {"before": (22.85, 22.85, 22.85), "after": (23.27, 23.26, 23.27)}


# The reshaping of the core (issue 13): alternating runs of the code before it (1f1c0f0, a worktree on
# PYTHONPATH) and after it (961743b), on 2026-12-01, one machine, one time; the order alternated pair by pair.
# relay: run(per_customer=500, rounds=3) -> (engine messages/s, engine CPU us per message, median ratio to echo)
# e2e: run() -> (p50 ms, p99 ms, engine CPU share); email: ingest() -> (filed/s, acknowledged/s, engine CPU ms/mail)
RESHAPE_AB: dict[str, dict[str, list[tuple[float, float, float]]]] = {
    "relay": {
        "before": [(66735, 15.0, 0.524), (71687, 13.8, 0.547), (71881, 14.0, 0.537), (68522, 14.6, 0.526),
                   (71760, 14.0, 0.527), (69520, 14.2, 0.532)],
        "after": [(70179, 14.0, 0.532), (67393, 14.8, 0.527), (72036, 13.8, 0.541), (67203, 14.8, 0.529),
                  (69017, 14.6, 0.562), (71435, 14.2, 0.539)],
    },
    "e2e": {
        "before": [(0.87, 2.57, 0.459), (0.65, 1.37, 0.343), (0.72, 1.78, 0.379), (0.73, 1.85, 0.377),
                   (0.81, 1.80, 0.415), (0.72, 1.60, 0.380)],
        "after": [(0.71, 1.80, 0.377), (0.69, 1.58, 0.371), (0.72, 1.64, 0.395), (0.71, 1.46, 0.374),
                  (0.70, 1.47, 0.366), (0.73, 1.55, 0.384)],
    },
    "email": {
        "before": [(621, 467, 1.295), (615, 470, 1.300), (601, 446, 1.350), (647, 489, 1.270)],
        "after": [(703, 522, 1.065), (753, 553, 1.000), (731, 526, 1.035), (832, 591, 0.925)],
    },
}  # fmt: skip


def relay_ab() -> list[str]:
    """The relay and memory A/B of delivery from the record (figures in RELAY_AB and MEMORY_AB)."""
    before, after = RELAY_AB["before"], RELAY_AB["after"]
    if not (before and after):
        return []
    return [
        "Relay A/B (alternating runs of the relay benchmark, 100 customers x 500 messages, 3 rounds each):",
        "",
        "| code | engine messages per second, each run | ratio to echo, each run |",
        "| --- | --- | --- |",
        f"| before (f19c98a) | {_each(before, 0, ',.0f')} | {_each(before, 1, '.3f')} |",
        f"| after | {_each(after, 0, ',.0f')} | {_each(after, 1, '.3f')} |",
        "",
        f"Medians: before {_median(before, 0):,.0f} messages per second at {_median(before, 1):.3f} of the echo,"
        f" after {_median(after, 0):,.0f} at {_median(after, 1):.3f}: within the runs' spread",
        f"({min(q for _, q in before + after):.3f} to {max(q for _, q in before + after):.3f}). The relay runs on",
        "the embedded store, where the watch does not run; what it adds per message is the in-order",
        "bookkeeping of each socket.",
        "",
        "Memory, the same A/B with the memory benchmark (three alternating runs):",
        f"{MEMORY_AB['before'][0]:.2f} KiB per widget socket before, {MEMORY_AB['after'][0]:.2f} after: each",
        "socket's own record of what it gave.",
        "",
    ]


def _reshape_row(label: str, runs: list[tuple[float, float, float]], fmts: tuple[str, str, str]) -> str:
    cells = [f"{_median(runs, i):{fmt}} ({_each(runs, i, fmt)})" for i, fmt in enumerate(fmts)]
    return f"| {label} | " + " | ".join(cells) + " |"


def _relay_e2e_tables(ab: dict[str, dict[str, list[tuple[float, float, float]]]]) -> list[str]:
    """The relay's and the end-to-end benchmark's A/B, before and after: medians, each run in brackets."""
    return [
        "| relay (100 customers x 500 messages) | engine messages per second | engine CPU per message (µs) "
        "| ratio to the echo |",
        "| --- | --- | --- | --- |",
        _reshape_row("before", ab["relay"]["before"], (",.0f", ".1f", ".3f")),
        _reshape_row("after", ab["relay"]["after"], (",.0f", ".1f", ".3f")),
        "",
        "| end to end (200 chats per second) | p50 (ms) | p99 (ms) | engine CPU (cores) |",
        "| --- | --- | --- | --- |",
        _reshape_row("before", ab["e2e"]["before"], (".2f", ".2f", ".3f")),
        _reshape_row("after", ab["e2e"]["after"], (".2f", ".2f", ".3f")),
    ]


def reshape_section(_: dict[str, Any]) -> list[str]:
    """The A/B of the reshaping of the core (RESHAPE_AB): the relay, the end-to-end latency and email filing."""
    ab = RESHAPE_AB
    return [
        "## The reshaping of the core: before and after",
        "",
        "The engine cut into services, the wire built at the edge, the store by aggregate, channels registered",
        "(issue 13). Alternating runs on one machine at one time: the code before (1f1c0f0, from a worktree) and",
        "after (961743b), the order swapped pair by pair. Medians, each run in brackets. The machine ran about",
        "twice as fast that day as on 2026-11-29 (the bare echo spent 6.4 to 7.4 µs of CPU a message, against",
        "13.6 to 15.1): compare the two rows, and ratios, not these figures with older sections'.",
        "",
        *_relay_e2e_tables(ab),
        "",
        "| email (2,000 mails from Dovecot) | filed per second | acknowledged per second | engine CPU per mail (ms) |",
        "| --- | --- | --- | --- |",
        _reshape_row("before", ab["email"]["before"], (",.0f", ",.0f", ".3f")),
        _reshape_row("after", ab["email"]["after"], (",.0f", ",.0f", ".3f")),
        "",
        "The relay and the end-to-end latency are within the runs' spread. The first cut was not: a chat message",
        "cost about 1 µs more of engine CPU (7 %, in all 14 alternating pairs), from the message event made and",
        "looked for on each socket, a second JSON of the message, and one more frame per act. A micro-benchmark",
        "of the engine alone (messages posted into 100 open chats, 7.4 µs of CPU each before) found it; the",
        "sockets now make a message's JSON only when they give it, the hot acts skip the façade, and the text",
        "checks skip a regular expression for printable text. Email filing is faster: it asks the store once",
        "for what filing depends on (`filing_context`) instead of up to seven times.",
        "",
        "Later the same day the embedded store took its rows from the one codec of a record (`records.py`) and the",
        "Redis store its events (806b98c against 215e5f0): the relay's ratio to the echo in three alternating pairs",
        "(`relay.run(per_customer=500, rounds=3)`), before "
        + ", ".join(f"{r:.3f}" for r in CODEC_AB["before"])
        + ", after "
        + ", ".join(f"{r:.3f}" for r in CODEC_AB["after"])
        + ": within the spread.",
        "",
    ]


# One codec per record (806b98c) against the code before it (215e5f0): the relay's median ratio to the echo,
# run(per_customer=500, rounds=3), three alternating pairs on 2026-12-01.
CODEC_AB = {"before": (0.485, 0.471, 0.472), "after": (0.482, 0.465, 0.464)}


# The news the desk and the widget get since issue 14 (the floor, the queue's places, offer details, who is
# still there): alternating runs of e2e.run() on the code before it (215e5f0, a worktree) and after it
# (814f738), 2026-12-01, on a quiet machine. (p50 ms, p99 ms, engine CPU share.)
DESK_NEWS_AB: dict[str, list[tuple[float, float, float]]] = {
    "before": [(0.92, 2.57, 0.479), (0.91, 2.68, 0.490)],
    "after": [(0.87, 3.04, 0.501), (0.74, 1.79, 0.420)],
}


def desk_news_section(_: dict[str, Any]) -> list[str]:
    """The end-to-end A/B of what issue 14 added on the path: the desk's and the widget's news."""
    ab = DESK_NEWS_AB
    return [
        "## The desk's and the widget's news on the end-to-end path: before and after",
        "",
        "Issue 14 added what the desks and widgets are told besides the conversation: the floor every 2 s, each",
        "waiting customer's place in the queue, who waits behind an offer (one read of the customer), and whether",
        "a customer is still there. The end-to-end benchmark, alternating runs of the code before (215e5f0, from a",
        "worktree) and after (814f738). An earlier version of the offer's details read the chat's first message",
        "from the store as well; on a busy machine the engine's CPU rose by about 4 % in three of four pairs, so",
        "a chat's first message now travels as its contact's subject.",
        "",
        "| end to end (200 chats per second) | p50 (ms) | p99 (ms) | engine CPU (cores) |",
        "| --- | --- | --- | --- |",
        _reshape_row("before", ab["before"], (".2f", ".2f", ".3f")),
        _reshape_row("after", ab["after"], (".2f", ".2f", ".3f")),
        "",
        "Within the runs' spread.",
        "",
    ]


# Issue 14's last steps on the hot paths (a message's files, every unit's recorded events told to the agents
# holding the customer's other contacts): alternating runs of 61dd414 (a worktree on PYTHONPATH) and adef639,
# on 2026-12-01, the order swapped pair by pair. relay: run(per_customer=500, rounds=3) -> (engine messages/s,
# engine CPU us per message, median ratio to echo); e2e: run() -> (p50 ms, p99 ms, engine CPU share).
FILES_AB: dict[str, dict[str, list[tuple[float, float, float]]]] = {
    "relay": {
        "before": [(43267, 23.0, 0.445), (26032, 37.2, 0.416), (39331, 25.4, 0.516)],
        "after": [(42381, 22.8, 0.451), (34851, 28.6, 0.444), (35519, 28.2, 0.397)],
    },
    "e2e": {
        "before": [(1.24, 9.11, 0.674), (2.85, 14.2, 0.877), (1.27, 6.78, 0.683), (1.93, 11.04, 0.85),
                   (1.31, 4.5, 0.705), (1.19, 3.47, 0.652), (1.69, 9.78, 0.819)],
        "after": [(1.52, 6.43, 0.793), (1.65, 21.44, 0.81), (1.88, 9.07, 0.85), (1.33, 4.27, 0.714),
                  (1.35, 8.21, 0.715), (1.39, 4.56, 0.733), (1.59, 6.36, 0.789)],
    },
}  # fmt: skip


def files_section(_: dict[str, Any]) -> list[str]:
    """The A/B of files in messages and of the live history (FILES_AB)."""
    ab = FILES_AB
    return [
        "## Files in messages and the live history: before and after",
        "",
        "Issue 14's last steps touched two hot paths: a chat message may carry files (one more field looked at per",
        "message), and every unit of work's recorded events are told to the agents holding another contact of the",
        "same customer (a look-up per event). Alternating runs of the code before (61dd414, from a worktree) and",
        "after (adef639). The machine was slower and far noisier than on the day of the sections above (the",
        "engine's messages per second of a relay run moved between 26,000 and 43,000 on the same code).",
        "",
        *_relay_e2e_tables(ab),
        "",
        "The end-to-end medians favour the old code by about 0.08 cores, but pair by pair the new code's engine CPU",
        "was higher in four of seven and lower in three, and one side's runs alone spread from 0.65 to 0.88. What",
        "the change adds per unit of work is a few dictionary operations per recorded event (not timed alone; a new",
        "visitor's chat has no other contact, so nothing is sent). Read as within the spread; to be measured again",
        "on a quieter machine. The relay's ratio to the echo is the same on both.",
        "",
    ]


# What issue 17 added on the hot paths (each contact's facts written as it changes, a row per status change,
# the /metrics histograms): alternating runs of 33df5ec (before it, a worktree on PYTHONPATH) and f1dfa64, on
# 2026-12-05, the order swapped pair by pair. e2e: run() -> (p50 ms, p99 ms, engine CPU share);
# relay: run(per_customer=500, rounds=3) -> (engine CPU us per message, median ratio to the echo).
SUPERVISORS_AB: dict[str, dict[str, list[tuple[float, ...]]]] = {
    "e2e": {
        "before": [(1.14, 2.50, 0.634), (1.18, 2.74, 0.661), (1.29, 4.46, 0.711), (1.20, 3.37, 0.677)],
        "after": [(1.21, 3.05, 0.670), (1.20, 3.33, 0.665), (1.12, 2.97, 0.632), (1.25, 3.29, 0.702)],
    },
    "relay": {
        "before": [(21.8, 0.500), (22.0, 0.544), (22.6, 0.500)],
        "after": [(24.0, 0.485), (23.2, 0.449), (21.4, 0.544)],
    },
}
SUPERVISORS_RSS_MIB = {"before": 153, "after": 157}  # the e2e engine's peak, median of the runs


def supervisors_ab_section(_: dict[str, Any]) -> list[str]:
    """The A/B of the supervisors' writes on the hot paths (SUPERVISORS_AB)."""
    ab = SUPERVISORS_AB
    return [
        "## The supervisors' figures on the hot paths: before and after",
        "",
        "Issue 17 writes each contact's facts as it changes (what the reports and the dashboard read), a row per",
        "agent status change, and the `/metrics` histograms of waits and routing. Alternating runs of the code",
        "before (33df5ec, from a worktree) and after (f1dfa64), on 2026-12-05. Medians, each run in brackets.",
        "",
        *ab_table(E2E, [("before", ab["e2e"]["before"]), ("after", ab["e2e"]["after"])]),
        *ab_table(RELAY, [("before", ab["relay"]["before"]), ("after", ab["relay"]["after"])]),
        f"End to end, the medians' engine CPU is the same ({_median(ab['e2e']['before'], 2):.3f} and"
        f" {_median(ab['e2e']['after'], 2):.3f} cores) and the latency within the runs' spread. The relay's",
        "median is about 5 % more CPU per message after (higher in two pairs of three, lower in one) while its",
        "ratio to the bare echo, which shares the machine's pace, is within the spread: not a cost these runs",
        f"can tell from noise. The engine's peak RSS in the end-to-end run rose from {SUPERVISORS_RSS_MIB['before']}",
        f"to {SUPERVISORS_RSS_MIB['after']} MiB: prometheus-client and the new modules, loaded once.",
        "",
    ]
