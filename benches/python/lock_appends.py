"""The notes' In[2]-[3], scaled up: 4 threads append `{"res": url+retry}` to one list under one
`threading.Lock`, 1,000,000 appends in all (250,000 per thread).

Twin of `appends/scaled/{std,parking-lot}` in benches/scenarios.rs (4 threads, 250,000
lock-protected appends each).
"""

import threading

import _twin

URLS = ["https://google.com", "https://facebook.com", "https://reddit.com", "https://instagram.com"]


def main():
    args = _twin.parse(__doc__, 1_000_000, lambda p: p.add_argument("--threads", type=int, default=4))
    per_thread = args.ops // args.threads
    global_res = []
    lock = threading.Lock()

    def api_call(url, retry_duration):
        res = url + str(retry_duration)
        for _ in range(per_thread):
            with lock:  # lock.acquire() -> lock.release()
                global_res.append({"res": res})

    threads = [
        threading.Thread(target=api_call, args=(URLS[i % len(URLS)], 10)) for i in range(args.threads)
    ]

    def run():
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    seconds = _twin.timed(run)
    total = per_thread * args.threads
    assert len(global_res) == total
    _twin.report("lock-appends", total, seconds, threads=args.threads)


if __name__ == "__main__":
    main()
