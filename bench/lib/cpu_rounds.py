#!/usr/bin/env python3
"""Summary of alternating CPU-per-request rounds (bench/policy, bench/observe).

usage: cpu_rounds.py --baseline NAME FILE.tsv [FILE.tsv ...]

Each FILE is a run: a '# ...' header line carrying clk_tck= and duration=, a column header
line starting with 'round', then one row per (round, case):
  round  case  requests  non2xx  errors  utime_ticks  stime_ticks  loadavg  [extra columns]
The case column is named by the script ('route', 'variant'). CPU per request = (utime + stime)
/ requests. Several files are pooled (rounds labelled FILE.ROUND). Extra integer columns are
totalled per case and shown against the requests ('-' cells are skipped). Prints the rounds,
the median per case, and against the baseline case: the ratio of the medians, the median of
the per-round ratios (each case against the baseline of the same round) with a 95 % bootstrap
interval and its range, and the ratios of the user-time and system-time medians.
Standard library only.
"""
import argparse
import random
import statistics

STANDARD = 8  # round, case, requests, non2xx, errors, utime_ticks, stime_ticks, loadavg


def boot_ci(values, n=2000):  # 95 % bootstrap interval of the median (fixed seed)
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(values, k=len(values))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", required=True, help="the case the others are divided by")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    baseline = args.baseline

    by = {}  # case -> (file, round) -> dict
    extras = {}  # case -> column -> [sum, requests of the rows that had it]
    extra_names = []
    for fi, path in enumerate(args.files):
        lines = open(path).read().splitlines()
        head = lines[0]
        print(head.strip())
        clk = int(head.split("clk_tck=")[1].split()[0])
        duration = float(head.split("duration=")[1].split()[0])
        columns = next(l for l in lines if l.startswith("round")).split("\t")
        for name in columns[STANDARD:]:
            if name not in extra_names:
                extra_names.append(name)
        rows = [l.split("\t") for l in lines if l and not l.startswith(("#", "round"))]
        for row in rows:
            rnd, case, req, non2xx, errs, ut, st, _load = row[:STANDARD]
            req, ut, st = int(req), int(ut), int(st)
            if int(non2xx) or int(errs):
                print(f"WARNING {path} round {rnd} {case}: {non2xx} non-2xx, {errs} socket errors")
            us = 1e6 / clk / max(req, 1)
            by.setdefault(case, {})[(fi, int(rnd))] = dict(
                req=req, rps=req / duration, cpu=(ut + st) * us, user=ut * us, sys=st * us,
                busy=(ut + st) * 100 / clk / duration)
            for name, cell in zip(columns[STANDARD:], row[STANDARD:]):
                if cell not in ("", "-"):
                    acc = extras.setdefault(case, {}).setdefault(name, [0, 0])
                    acc[0] += int(cell)
                    acc[1] += req
    cases = list(by)
    several = len(args.files) > 1

    print("\nper round: turnout CPU us/request (user part), requests/s, turnout CPU %")
    print("round" + "".join(f"{c:>30}" for c in cases))
    for key in sorted(by[cases[0]]):
        cells = "".join(f"{by[c][key]['cpu']:>8.2f} ({by[c][key]['user']:4.2f}) {by[c][key]['rps']:>7.0f} "
                        f"{by[c][key]['busy']:>3.0f}%" for c in cases if key in by[c])
        label = f"{key[0] + 1}.{key[1]}" if several else str(key[1])
        print(f"{label:>5}  {cells}")
    print(f"\n{len(by[cases[0]])} rounds. x {baseline}: ratio of the medians; per-round ratio (each round's "
          f"case / its {baseline}): median, 95 % bootstrap CI of that median, [min..max]; user-time and "
          "system-time ratios of the medians")
    print("case             us/req  user   req/s  | ratio  | per-round median  CI               [min..max]      "
          "| user   sys")
    for c in cases:
        cc = by[c]
        med = statistics.median(v["cpu"] for v in cc.values())
        umed = statistics.median(v["user"] for v in cc.values())
        smed = statistics.median(v["sys"] for v in cc.values())
        rps = statistics.median(v["rps"] for v in cc.values())
        line = f"{c:<16} {med:>6.2f} {umed:>5.2f} {rps:>7.0f}"
        if baseline in by and c != baseline:
            base = by[baseline]
            ratios = [cc[k]["cpu"] / base[k]["cpu"] for k in cc if k in base]
            bmed = statistics.median(v["cpu"] for v in base.values())
            bumed = statistics.median(v["user"] for v in base.values())
            bsmed = statistics.median(v["sys"] for v in base.values())
            lo, hi = boot_ci(ratios)
            line += (f"  | {med / bmed:.3f}  | {statistics.median(ratios):.3f}  [{lo:.3f}..{hi:.3f}]"
                     f"  [{min(ratios):.3f}..{max(ratios):.3f}] | {umed / bumed:.3f} {smed / bsmed:.3f}")
        print(line)
    if extras:
        print("\ntotals of the extra columns, beside the requests wrk completed in the same rows")
        for c in cases:
            for name in extra_names:
                if name in extras.get(c, {}):
                    total, req = extras[c][name]
                    print(f"{c:<16} {name:<10} {total:>12}   (wrk: {req} requests)")


if __name__ == "__main__":
    main()
