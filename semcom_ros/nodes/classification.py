"""The per-frame result message (``classification``) the server and the classifier publish alike."""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue


def latency_s(node, header) -> float:
    """Seconds from the camera frame's stamp to now, on the node's clock."""
    return (node.get_clock().now().nanoseconds - header.stamp.sec * 1_000_000_000 - header.stamp.nanosec) * 1e-9


def top_classes(probs, topk: int) -> list[list[tuple[int, float]]]:
    """(B, classes) probabilities -> per frame the ``topk`` (class, probability), best first: one torch call a batch."""
    top = probs.topk(min(topk, probs.shape[-1]), dim=-1)
    return [list(zip(i, v)) for i, v in zip(top.indices.tolist(), top.values.tolist())]


def classification(header, class_names, top: list[tuple[int, float]], fields: dict) -> tuple[DiagnosticArray, dict]:
    """DiagnosticArray with the frame's header: class_id, label, score, top-k, then ``fields``; and those values."""
    cls, score = top[0]
    values = {"class_id": cls, "label": class_names[cls], "score": f"{score:.4f}",
              "topk": ";".join(f"{class_names[i]}:{v:.3f}" for i, v in top), **fields}
    status = DiagnosticStatus(level=DiagnosticStatus.OK, name="semcom_classification", message=class_names[cls],
                              hardware_id=header.frame_id,
                              values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
    out = DiagnosticArray(status=[status])
    out.header = header
    return out, values
