"""`make demo` end to end: the real daemon in a child process against the simulator."""

import subprocess
import sys


def test_demo_shows_the_whole_flow_and_exits_0():
    proc = subprocess.run([sys.executable, "-m", "zsc.demo"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for expected in ("Primary on call: Priya Primary · Secondary on call: Sam Secondary",
                     "(Zendesk): Looking at it now.", "Ann (public): It is deploy 4242",
                     "`resolve` | `resolve ticket`", "was marked solved in Zendesk",
                     "The internal note stayed in Zendesk.", "zsc stopped cleanly (exit 0)",
                     "Time to first response (wall-clock time):", "last 7 days median ",
                     "Time to resolution (wall-clock time):", "*no first response* for ",
                     "zsc reacts: :hourglass_flowing_sand:", "zsc reacts: :white_check_mark:",
                     "Slack #platform", "(group Platform)"):
        assert expected in out, expected
    assert "load balancer" not in "".join(line for line in out.splitlines() if line.strip().startswith("Slack"))
