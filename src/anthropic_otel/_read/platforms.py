"""Which price list prices a call, and as which model: platform model ids mapped to the model they serve.

The same Claude model is sold by Anthropic, by AWS Bedrock, by Google Vertex AI and by Microsoft
Foundry, at prices that can differ (Bedrock's regional endpoints carry a premium over its global
ones), under ids of their own:

- Bedrock: `anthropic.claude-sonnet-4-5-20250929-v1:0` (in-region), cross-region inference profiles
  `us.` / `eu.` / `apac.` / `au.` / `jp.` / ... (geographic: the regional price) and `global.`
  (the global price), also inside an inference-profile or foundation-model ARN. Application
  inference profiles and provisioned throughput name no model (and provisioned throughput is
  billed by the hour): they get no price;
- Vertex AI: `claude-sonnet-4-5@20250929`, priced by the endpoint the client calls: the global one
  (`region="global"`) or a regional / multi-region one;
- Foundry: the deployment name, which is the model id unless the deployment was renamed.

The span keeps the id the application sent (`gen_ai.request.model`); only pricing uses the mapping.
Pure: no OpenTelemetry, no state.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple, Optional

from anthropic_otel._read.price_table import FIRST_PARTY

__all__ = ["BEDROCK", "FOUNDRY", "VERTEX", "PricedAs", "priced_as"]

BEDROCK = "aws.bedrock"
VERTEX = "gcp.vertex_ai"
FOUNDRY = "azure.foundry"
IN_REGION = "in-region"  # the profile of a Bedrock model id without a geography prefix

# `[geo.]anthropic.<model>[-v<n>[:<m>]]`, the model part of an ARN included.
_BEDROCK_MODEL = re.compile(r"^(?:(?P<geo>[a-z][a-z-]*)\.)?anthropic\.(?P<model>[a-z0-9.-]+?)(?:-v\d+(?::\d+)?)?$")
# ARNs whose last part names a model: system-defined inference profiles and foundation models.
_BEDROCK_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:inference-profile|foundation-model)/(?P<id>.+)$")


class PricedAs(NamedTuple):
    """The price list of a call, the model id to look up in it, and (Bedrock) the inference profile used."""

    price_list: str
    model: str
    profile: Optional[str] = None


@functools.lru_cache(maxsize=1024)
def priced_as(platform: str, model: str, region: Optional[str] = None) -> Optional[PricedAs]:
    """How a call of `model` through `platform` (`anthropic`, `aws.bedrock`, `gcp.vertex_ai`,
    `azure.foundry`) is priced; `region` is Vertex's (`global`, `us-east5`, ...). None: it cannot be."""
    if platform == BEDROCK:
        return _bedrock(model)
    if platform == VERTEX:
        return PricedAs(f"{VERTEX}/{'global' if region == 'global' else 'regional'}", model)
    if platform == FOUNDRY:
        return PricedAs(FOUNDRY, model)
    return PricedAs(FIRST_PARTY, model)


def _bedrock(model: str) -> Optional[PricedAs]:
    model = model.strip().lower()
    arn = _BEDROCK_ARN.match(model)
    if arn is not None:
        model = arn["id"]
    found = _BEDROCK_MODEL.match(model)
    if found is None:
        return None
    geo = found["geo"]
    if geo == "global":
        return PricedAs(f"{BEDROCK}/global", found["model"])
    return PricedAs(f"{BEDROCK}/regional", found["model"], IN_REGION if geo is None else geo)
