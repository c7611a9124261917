"""Python API workloads, run inside an instance by `flux python`:
  submit N  jobs/s accepted from one process with flux.job.submit_async
            (simulated jobs, as throughput.sim; all submitted, then all ids)
  rpc N     broker.ping round trips/s, one at a time
Prints the rate. Runs unchanged under flux-core's flux python."""

import sys
import time

import flux
import flux.job


def submit(h, n):
    js = flux.job.JobspecV1.from_command(["true"])
    js.setattr("system.exec.test.run_duration", "0.001s")
    t0 = time.perf_counter()
    futures = [flux.job.submit_async(h, js) for _ in range(n)]
    for f in futures:
        f.get_id()
    return n / (time.perf_counter() - t0)


def rpc(h, n):
    t0 = time.perf_counter()
    for i in range(n):
        h.rpc("broker.ping", {"seq": i}).get()
    return n / (time.perf_counter() - t0)


def main():
    h = flux.Flux()
    workload, n = sys.argv[1], int(sys.argv[2])
    print(f"{ {'submit': submit, 'rpc': rpc}[workload](h, n):.1f}")


if __name__ == "__main__":
    main()
