"""Why the local stack runs one invocation at a time per process (docs/DESIGN.md, "The local stack
is Lambda's model"): Powertools keeps per-invocation state on classes, not on instances. If a
Powertools upgrade moves it onto instances, these tests say so; until then nobody may reintroduce
concurrent invocations in one process."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from omotenashi_local.runtime import INVOCATION_LOCK, api_gateway_event


def _event(path: str, body: bytes) -> dict[str, Any]:
    return api_gateway_event("POST", path, {"Content-Type": "application/json"}, body, path)


def test_two_resolvers_share_the_current_event():
    first, second = APIGatewayRestResolver(), APIGatewayRestResolver()
    seen: dict[str, Any] = {}

    @first.post("/first")
    def first_route() -> dict[str, str]:
        seen["before"] = first.current_event.json_body
        # Another invocation resolved meanwhile (another thread in the same process)...
        second.resolve(_event("/second", b'{"who": "second"}'), None)
        # ...and the first one's request is now the second's.
        seen["after"] = first.current_event.json_body
        return {}

    @second.post("/second")
    def second_route() -> dict[str, str]:
        return {}

    assert first.resolve(_event("/first", b'{"who": "first"}'), None)["statusCode"] == 200
    assert seen == {"before": {"who": "first"}, "after": {"who": "second"}}


def test_every_function_of_the_local_stack_shares_one_invocation_lock(stack):
    pools = {id(route.pool): route.pool for route in stack.routes}
    pools.update({id(p.pool): p.pool for p in stack.pollers})
    pools.update({id(s.pool): s.pool for s in stack.schedules})
    pools.update({id(s.pool): s.pool for s in stack.stream_pollers})
    pools.update({id(pool): pool for pool in stack.functions.values()})  # invoked directly (SES)
    assert len(pools) == len(stack.resources.functions)  # every function of the template
    assert all(pool._lock is INVOCATION_LOCK for pool in pools.values())
