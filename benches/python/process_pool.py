"""The notes' In[8], scaled up: `ProcessPoolExecutor(3)`, 10,000 trivial tasks through `submit`,
their results collected through `as_completed`. Pool start-up is not timed (the workers are
warmed with one task each first), so the figure is per-task cost.

Twin of the process-pool throughput bench in benches/processes.rs.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed

import _twin


def api_call(url, retry_duration):
    return {"res": url + str(retry_duration)}


def main():
    args = _twin.parse(__doc__, 10_000, lambda p: p.add_argument("--workers", type=int, default=3))
    results = []
    with ProcessPoolExecutor(max_workers=args.workers) as executor:
        # Start every worker before the clock starts.
        list(executor.map(api_call, ["warm"] * (4 * args.workers), range(4 * args.workers)))

        def run():
            futures = [executor.submit(api_call, "https://google.com", i) for i in range(args.ops)]
            results.extend(future.result() for future in as_completed(futures))

        seconds = _twin.timed(run)
    assert len(results) == args.ops
    _twin.report("process-pool", args.ops, seconds, workers=args.workers)


if __name__ == "__main__":
    main()
