#!/usr/bin/env python3
"""Every round of one load of benches/side_by_side.rs, from two or more of its
JSON files, as one Markdown table: chapter 10 shows it to show what a median
of a few rounds hides.

    python3 scripts/rounds.py LOAD IMPLEMENTATION... -- FILE.json... > OUT.md

For example (the table in book/src/results/rounds/spsc_cap1024.md):

    python3 scripts/rounds.py spsc_cap1024 kanal crossbeam ring -- \\
        book/src/results/side_by_side.json book/src/results/rerun/side_by_side.json \\
        > book/src/results/rounds/spsc_cap1024.md

One row per file and implementation: million items per second in each round
(in the order the rounds ran), then the median, as the file's own table
gives it.
"""
import json
import statistics
import sys


def main(argv):
    if "--" not in argv or argv.index("--") < 2:
        sys.exit(__doc__)
    cut = argv.index("--")
    load, wanted, files = argv[0], argv[1:cut], argv[cut + 1 :]
    rows, notes, rounds = [], [], 0
    for path in files:
        with open(path) as f:
            data = json.load(f)
        runs = next((l["runs"] for l in data["loads"] if l["name"] == load), None)
        if runs is None:
            sys.exit(f"{path}: no load named {load}")
        rounds = max(rounds, data["rounds"])
        notes.append(
            f"`{path}`: {data['date']}, commit `{data['commit']}`, "
            f"load average before {data['load_average_before']}"
        )
        for name in wanted:
            speeds = [r["m_items_per_s"] for r in sorted(runs, key=lambda r: r["round"])
                      if r["implementation"] == name]
            if not speeds:
                sys.exit(f"{path}: no runs of {name} under {load}")
            rows.append((path, name, speeds))
    print(f"<!-- Written by scripts/rounds.py {' '.join(argv)}: do not edit by hand. -->")
    print(f"Load `{load}`, million items per second in each round:\n")
    print("| file | implementation | " + " | ".join(f"round {i}" for i in range(rounds)) + " | median |")
    print("|---|---|" + "---:|" * (rounds + 1))
    for path, name, speeds in rows:
        cells = [f"{s:.1f}" for s in speeds] + [""] * (rounds - len(speeds))
        label = "rerun" if "rerun" in path else "first run"
        print(f"| {label} | {name} | " + " | ".join(cells) + f" | **{statistics.median(speeds):.1f}** |")
    print()
    for n in notes:
        print(f"- {n}")


if __name__ == "__main__":
    main(sys.argv[1:])
