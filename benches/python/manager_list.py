"""The notes' In[9], scaled up: a `Manager().list()` in the manager's server process; 3 worker
processes append to it through its proxy, 10,000 appends in all. Process start-up is not
timed: each worker waits at a barrier, and the clock runs from the barrier to the last join.

Twin of the manager-append bench in benches/processes.rs.
"""

import multiprocessing
import time
from multiprocessing import Manager

import _twin


def appender(global_res, count, worker, barrier, done):
    barrier.wait()
    for i in range(count):
        global_res.append({"res": "https://google.com" + str(worker * count + i)})
    done.put(time.perf_counter())


def main():
    args = _twin.parse(__doc__, 10_000, lambda p: p.add_argument("--processes", type=int, default=3))
    per_process = args.ops // args.processes
    ctx = multiprocessing.get_context("fork")
    with Manager() as manager:
        global_res = manager.list()
        barrier = ctx.Barrier(args.processes + 1)
        done = ctx.Queue()
        workers = [
            ctx.Process(target=appender, args=(global_res, per_process, w, barrier, done))
            for w in range(args.processes)
        ]
        for w in workers:
            w.start()
        barrier.wait()
        start = time.perf_counter()
        ends = [done.get() for _ in workers]
        seconds = max(ends) - start
        for w in workers:
            w.join()
        total = per_process * args.processes
        assert len(global_res) == total
    _twin.report("manager-appends", total, seconds, processes=args.processes)


if __name__ == "__main__":
    main()
