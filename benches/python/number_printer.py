"""The notes' In[9]-[11] (NumberPrinter), scaled up: k threads print 1..n in strict rotation
under one `threading.Condition` with `notify_all`, n = 100,000 turns. Printing goes to a list
(as the Rust bench collects its lines), not to the terminal.

Twin of `turns/{notify-all,targeted}/{std,parking-lot}/k={k}` in benches/scenarios.rs (20,000
handoffs per iteration there).
"""

import threading

import _twin


class NumberPrinter:
    def __init__(self, n, num_threads):
        self.n = n
        self.num_threads = num_threads
        self.lock = threading.Lock()
        self.condition = threading.Condition(self.lock)
        self.current = 1
        self.turn = 0  # Keeps track of which thread's turn it is
        self.lines = []

    def print_number(self, thread_id):
        while True:
            with self.condition:
                while self.current <= self.n and self.turn != thread_id:
                    self.condition.wait()

                if self.current > self.n:
                    break

                self.lines.append(f"Thread-{thread_id}: {self.current}")
                self.current += 1
                self.turn = (self.turn + 1) % self.num_threads
                self.condition.notify_all()


def main():
    args = _twin.parse(__doc__, 100_000, lambda p: p.add_argument("--threads", "-k", type=int, default=3))
    printer = NumberPrinter(args.ops, args.threads)
    threads = [threading.Thread(target=printer.print_number, args=(i,)) for i in range(args.threads)]

    def run():
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    seconds = _twin.timed(run)
    assert len(printer.lines) == args.ops
    assert printer.lines[-1] == f"Thread-{(args.ops - 1) % args.threads}: {args.ops}"
    _twin.report(f"turns-k{args.threads}", args.ops, seconds, threads=args.threads)


if __name__ == "__main__":
    main()
