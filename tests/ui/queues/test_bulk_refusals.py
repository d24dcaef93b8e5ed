"""A bulk transition refused for a ticket says why with the transition's, states' and
roles' labels in the reader's language, never the workflow's ids."""

from __future__ import annotations

from tests.ui.conftest import Web
from tests.ui.queues.test_bulk_transition import AGENT, HTMX, _assigned_incidents


def test_refusals_name_the_transition_and_states_by_their_labels(web: Web) -> None:
    _, keys = _assigned_incidents(web, count=1)
    client = web.client(AGENT)
    form = {"keys": keys, "action": "transition", "transition": "close"}
    refused = client.send_form("/desk/queues/mine/bulk", form, headers=HTMX).text
    assert f"{keys[0]}: " in refused
    assert "“Close” cannot be taken in state “New” (only from: Resolved)" in refused
    assert "'close'" not in refused and "'new'" not in refused
    withdraw = client.send_form(
        "/desk/queues/mine/bulk",
        {**form, "transition": "withdraw", "bulk_form": "withdraw"},
        headers=HTMX,
    ).text
    assert "“Withdraw” is for Requester only" in withdraw and "'withdraw'" not in withdraw


def test_refusals_read_in_chinese(web: Web) -> None:
    _, keys = _assigned_incidents(web, count=1)
    client = web.client(AGENT)
    client.send_form("/language", {"language": "zh-CN"})
    form = {"keys": keys, "action": "transition", "transition": "close"}
    refused = client.send_form("/desk/queues/mine/bulk", form, headers=HTMX).text
    assert "状态为“新建”时不能执行“关闭”（仅限：已解决）" in refused
    withdraw = client.send_form(
        "/desk/queues/mine/bulk",
        {**form, "transition": "withdraw", "bulk_form": "withdraw"},
        headers=HTMX,
    ).text
    assert "“撤回”仅限提交人执行" in withdraw
