"""The notes' In[4], scaled up: `ThreadPoolExecutor(3)`, 100,000 trivial tasks through `submit`,
their results collected through `as_completed`.

Twin of the thread-pool throughput bench in benches/executors.rs.
"""

from concurrent.futures import ThreadPoolExecutor, as_completed

import _twin


def api_call(url, retry_duration):
    return {"res": url + str(retry_duration)}


def main():
    args = _twin.parse(__doc__, 100_000, lambda p: p.add_argument("--workers", type=int, default=3))
    results = []

    def run():
        with ThreadPoolExecutor(args.workers) as executor:
            futures = [executor.submit(api_call, "https://google.com", i) for i in range(args.ops)]
            results.extend(future.result() for future in as_completed(futures))

    seconds = _twin.timed(run)
    assert len(results) == args.ops
    _twin.report("thread-pool", args.ops, seconds, workers=args.workers)


if __name__ == "__main__":
    main()
