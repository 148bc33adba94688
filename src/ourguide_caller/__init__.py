"""ourguide_caller: let an AI support agent call a customer's own HTTP API safely.

from ourguide_caller import ApiKey, Integration, Runtime

shop = Integration("shop.yaml", base_url="https://shop.example/api",
                   auth=ApiKey(key=os.environ["SHOP_KEY"]))
async with Runtime(shop) as runtime:
    session = runtime.session()
    tools = runtime.tools_for(session)
    result = await runtime.call(session, "getOrder", {"orderId": "o-1"})
"""

from ._config import IntegrationConfig, load_config
from ._credentials import ApiKey, BasicAuth, BearerToken, Credential, JwtForward
from ._errors import (
    ArgumentProblem,
    AuthRequiredError,
    ConfigError,
    IdentityTokenError,
    InputValidationError,
    OurguideError,
    RateLimitedError,
    SpecError,
    ToolCallError,
    UnknownToolError,
    UpstreamError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)
from ._export import (
    ExportChange,
    drop_strict_nulls,
    to_anthropic,
    to_mcp,
    to_openai,
)
from ._filter import OperationFilter
from ._integration import Integration
from ._loader import LoadedSpec, load_spec
from ._result import ToolResult
from ._retry import RetryPolicy
from ._runtime import Runtime
from ._session import Session
from ._tools import Argument, Body, BuildReport, OperationReport, Tool

__version__ = "0.1.0"

__all__ = [
    "ApiKey",
    "Argument",
    "ArgumentProblem",
    "AuthRequiredError",
    "BasicAuth",
    "BearerToken",
    "Body",
    "BuildReport",
    "ConfigError",
    "Credential",
    "ExportChange",
    "IdentityTokenError",
    "InputValidationError",
    "Integration",
    "IntegrationConfig",
    "JwtForward",
    "LoadedSpec",
    "OperationFilter",
    "OperationReport",
    "OurguideError",
    "RateLimitedError",
    "RetryPolicy",
    "Runtime",
    "Session",
    "SpecError",
    "Tool",
    "ToolCallError",
    "ToolResult",
    "UnknownToolError",
    "UpstreamError",
    "UpstreamHTTPError",
    "UpstreamUnavailableError",
    "drop_strict_nulls",
    "load_config",
    "load_spec",
    "to_anthropic",
    "to_mcp",
    "to_openai",
]

# Show `ourguide_caller.Tool`, not `ourguide_caller._tools.Tool`, in reprs and
# tracebacks.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
