print("sched-bench: not yet written")
