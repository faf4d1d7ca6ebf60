"""An error nobody expected: the user sees ``unknown``, the log the traceback once.

The simulator cannot make our client raise something unexpected, so these
tests make its system-info read raise RuntimeError.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_ZEROCONF, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator

from .helpers import (
    CHECKER,
    OLD,
    READ,
    add_entry,
    auth_form,
    host_of,
    start_user,
    submit,
    wattwaechter_service,
)

MESSAGE = "Unexpected error while checking the WattWächter"


@pytest.fixture
def broken_client() -> Iterator[None]:
    """Make the flow's system-info read raise an error no branch expects."""
    with patch(
        f"{CHECKER}.WattwaechterClient.system_info", side_effect=RuntimeError("boom")
    ):
        yield


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the logged messages that came with the RuntimeError's traceback."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.exc_info and isinstance(r.exc_info[1], RuntimeError)
    ]


Form = tuple[ConfigFlowResult, dict[str, Any]]


async def user_form(hass: HomeAssistant, device: Simulator) -> Form:
    return await start_user(hass), {CONF_HOST: host_of(device)}


async def auth(hass: HomeAssistant, device: Simulator) -> Form:
    return await auth_form(hass, device), {CONF_TOKEN: READ}


async def reauth_form(hass: HomeAssistant, device: Simulator) -> Form:
    device.configure(auth_required=True)
    entry = add_entry(hass, host_of(device), OLD)
    return await entry.start_reauth_flow(hass), {CONF_TOKEN: READ}


async def reconfigure_form(hass: HomeAssistant, device: Simulator) -> Form:
    entry = add_entry(hass, host_of(device))
    return await entry.start_reconfigure_flow(hass), {CONF_HOST: host_of(device)}


@pytest.mark.parametrize("form", [user_form, auth, reauth_form, reconfigure_form])
async def test_unexpected_error_is_unknown_and_logged_once(
    hass: HomeAssistant,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    form: Callable[[HomeAssistant, Simulator], Awaitable[Form]],
) -> None:
    result, user_input = await form(hass, device)
    with patch(
        f"{CHECKER}.WattwaechterClient.system_info", side_effect=RuntimeError("boom")
    ):
        result = await submit(hass, result, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert tracebacks(caplog) == [MESSAGE]


async def test_unexpected_error_in_discovery_aborts_unknown(
    hass: HomeAssistant,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    broken_client: None,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=wattwaechter_service(device.port),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unknown"
    assert tracebacks(caplog) == [MESSAGE]


async def test_unexpected_error_at_reauth_start_asks_for_tokens(
    hass: HomeAssistant,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    broken_client: None,
) -> None:
    entry = add_entry(hass, host_of(device), OLD)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert tracebacks(caplog) == [MESSAGE]
