"""The per-frame result message (``classification``) the server and the classifier publish alike."""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.time import Time


def latency_s(node, header) -> float:
    """Seconds from the camera frame's stamp to now, on the node's clock."""
    return (node.get_clock().now() - Time.from_msg(header.stamp)).nanoseconds * 1e-9


def classification(header, class_names, probs, topk: int, fields: dict) -> tuple[DiagnosticArray, dict]:
    """DiagnosticArray with the frame's header: class_id, label, score, top-k, then ``fields``; and those values."""
    top = probs.topk(min(topk, probs.numel()))
    cls = int(top.indices[0])
    values = {"class_id": cls, "label": class_names[cls], "score": f"{float(top.values[0]):.4f}",
              "topk": ";".join(f"{class_names[int(i)]}:{float(v):.3f}" for v, i in zip(top.values, top.indices)),
              **fields}
    status = DiagnosticStatus(level=DiagnosticStatus.OK, name="semcom_classification", message=class_names[cls],
                              hardware_id=header.frame_id,
                              values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
    out = DiagnosticArray(status=[status])
    out.header = header
    return out, values
