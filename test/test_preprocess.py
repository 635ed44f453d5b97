"""Camera frames keep their aspect ratio on the way into the model (centre crop, as timm evaluates)."""
import cv2
import numpy as np
import timm
import torch

from semcom_ros.core.bundle.bundle import load_bundle
from semcom_ros.core.data.datasets import load_embedded_eval
from semcom_ros.core.data.preprocess import make_preprocess
from semcom_ros.core.model.models import data_config

fmnist_preprocess = make_preprocess(load_bundle("garments").preprocess_config)


def test_default_model_sees_the_centre_square_of_a_4_3_frame():
    item = cv2.resize(load_embedded_eval().images[7], (480, 480), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640, 3), 255, np.uint8)          # bright side bars must not reach the model
    frame[:, 80:560] = item[:, :, None]
    assert torch.equal(fmnist_preprocess(frame), fmnist_preprocess(item))
    portrait = np.full((640, 480), 255, np.uint8)
    portrait[80:560] = item
    assert torch.equal(fmnist_preprocess(portrait), fmnist_preprocess(item))


def extents(mask: torch.Tensor) -> tuple[int, int]:
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_timm_preprocessing_keeps_a_circle_round():
    preprocess = make_preprocess(data_config(timm.create_model("vit_tiny_patch16_224", pretrained=False)))
    for h, w in ((480, 640), (1080, 1920), (640, 480)):
        frame = np.zeros((h, w, 3), np.uint8)
        cv2.circle(frame, (w // 2, h // 2), min(h, w) // 3, (255, 255, 255), -1)
        x = preprocess(frame)
        assert x.shape == (3, 224, 224)
        height, width = extents(x[0] > 0)
        assert abs(height - width) <= 2, (h, w, height, width)      # squashing would make it an ellipse
        assert 0.6 * 224 < height < 224                             # and it fills what the crop says


def test_timm_squash_mode_is_honoured():
    cfg = {**data_config(timm.create_model("vit_tiny_patch16_224", pretrained=False)), "crop_mode": "squash"}
    frame = np.zeros((480, 640, 3), np.uint8)
    cv2.circle(frame, (320, 240), 160, (255, 255, 255), -1)
    height, width = extents(make_preprocess(cfg)(frame)[0] > 0)
    assert width < 0.85 * height        # the data config asked for squashing: the circle becomes an ellipse


def test_grey_padded_input_matches_the_training_layout():
    """The built-in bundle's 28 px items land zero-padded in the 32 px input, as train_default feeds them."""
    from semcom_ros.tools.train_default import to_tensor

    items = load_embedded_eval().images[:5]
    assert torch.allclose(torch.stack([fmnist_preprocess(i) for i in items]), to_tensor(items), atol=1e-6)


def test_large_shrinks_match_a_one_step_area_resize():
    """The whole-factor first step shifts framing by under one output pixel, nothing more."""
    from semcom_ros.core.data.preprocess import resize

    yy, xx = np.mgrid[0:1080, 0:1920]
    frame = ((np.sin(xx / 97.0) + np.cos(yy / 53.0) + 2) * 63).astype(np.uint8)
    cv2.circle(frame, (960, 540), 300, 255, -1)
    for src in (frame, frame[:945, :945], frame[:480, 100:740]):
        for out in ((28, 28), (32, 24), (224, 224), (480, 640)):
            if out[0] > src.shape[0] or out[1] > src.shape[1]:
                continue
            one_step = cv2.resize(src, out[::-1], interpolation=cv2.INTER_AREA).astype(float)
            ours = resize(src, *out, cv2.INTER_CUBIC).astype(float)
            assert ours.shape == one_step.shape
            one_pixel_shift = np.abs(one_step[1:, 1:] - one_step[:-1, :-1]).mean()
            assert np.abs(ours - one_step).mean() < 0.5 * one_pixel_shift, (src.shape, out)
    small = frame[:20, :30]
    assert np.array_equal(resize(small, 40, 60, cv2.INTER_NEAREST),            # enlarging uses the given method
                          cv2.resize(small, (60, 40), interpolation=cv2.INTER_NEAREST))
