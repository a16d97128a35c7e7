"""Stateful fakes of the Slack Web API, the Zendesk Support API and the PagerDuty REST
API, served over real HTTP on 127.0.0.1 so the real client libraries can talk to them.

    with Simulator() as sim:
        sim.slack.url        # base for slack_sdk: f"{sim.slack.url}/api/"
        sim.zendesk.url      # base for zenpy (via ZENPY_FORCE_NETLOC/SCHEME)
        sim.pagerduty.url    # base for pdpyras (session.url)
"""

from __future__ import annotations

from zsc.simulator.pagerduty import PagerDutySim
from zsc.simulator.slack import SlackSim
from zsc.simulator.zendesk import ZendeskSim


class Simulator:
    def __init__(self) -> None:
        self.slack = SlackSim()
        # Zendesk renders comment bodies as Markdown: what it stores is not what was sent.
        self.zendesk = ZendeskSim(render_markdown=True)
        self.pagerduty = PagerDutySim()

    @property
    def services(self):
        return (self.slack, self.zendesk, self.pagerduty)

    def start(self) -> "Simulator":
        for service in self.services:
            service.start()
        return self

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset_calls(self) -> None:
        for service in self.services:
            service.reset_calls()

    def set_latency(self, seconds: float) -> None:
        """A round-trip time for every call to every service (0: answer at once)."""
        for service in self.services:
            service.set_latency(seconds)

    def refused(self, status: int = 429) -> int:
        """Answers with `status` (rate limited, by default) from all services since the last reset."""
        return sum(service.refused(status) for service in self.services)

    def clear_faults(self) -> None:
        for service in self.services:
            service.clear_faults()
