"""Waiting for a condition and stopping a child process, for the Python tests that run the real
binary (tests/cli, tests/integration)."""
import subprocess
import time


def wait_for(predicate, timeout, what):
    """Polls predicate every 0.2 s; raises AssertionError naming what after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}")


def stop_process(proc, grace=20):
    """SIGTERM, then SIGKILL if proc has not exited within grace seconds; reaps it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
