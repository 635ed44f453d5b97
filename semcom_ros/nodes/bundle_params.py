"""The bundle parameters the pipeline nodes share, and loading a node's link and front from them."""
from __future__ import annotations

from .base import SemcomNode


def declare_bundle_params(node: SemcomNode, rate: bool = True) -> None:
    """The ``bundle`` (and, unless ``rate`` is false, ``rate``) parameters every pipeline node shares."""
    node.param("bundle", "default", "model bundle: a folder made by semcom-bundle, or a built-in one: "
               "'default' (robot-view scenes) or 'garments' (the small Fashion-MNIST model)", read_only=True)
    if not rate:
        return
    node.param("rate", 4, "starting JSCC rate (complex symbols per token; one of the bundle's rates): what a "
               "schedule name without a rate (p06) means; S1/S2/S3 and names like p06@m8 carry their own, and the "
               "rate can change per frame", lo=1, hi=64, read_only=True)


def node_front(node: SemcomNode, bundle, depth: int | None = None, tokens: int | None = None):
    """The bundle's front for the node's rate, saying so when it was made for another rate."""
    front = bundle.front(node.p("rate"), depth, tokens)
    if not front.joint and front.rate != node.p("rate"):
        node.get_logger().warning(f"bundle {bundle.name} has no front for rate {node.p('rate')}; using the one "
                                  f"for rate {front.rate} (its accuracy figures are for it)")
    return front


def declare_link_params(node: SemcomNode, rate: bool = True) -> None:
    """Bundle, rate, device and threads: what the camera and server nodes load their link from."""
    declare_bundle_params(node, rate)
    node.param("threads", 1, "CPU threads for torch (1 suits single frames; nodes share the CPU)", lo=1, hi=256,
               read_only=True)
    node.param("device", "cpu", "torch device: cpu, cuda or cuda:N (checked when configuring)", read_only=True)


def load_link(node: SemcomNode):
    """The bundle, the semantic link (every JSCC rate, starting at the node's) and the front that goes with it."""
    import torch

    from ..core.bundle.bundle import load_bundle

    bundle = load_bundle(node.p("bundle"))
    torch.set_num_threads(node.p("threads"))
    link = bundle.link(node.p("rate"), node.p("device"), all_rates=True)   # no CUDA: refused now, not at a frame
    return bundle, link, node_front(node, bundle, link.depth, link.model.patch_embed.num_patches)
