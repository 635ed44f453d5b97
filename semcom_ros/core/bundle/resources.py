"""Where installed files live: the package's share/ folder, or the source tree."""
from __future__ import annotations

from pathlib import Path

PACKAGE = "semcom_ros"


def share_dir() -> Path:
    """share/semcom_ros after colcon build or pip install; the repository root in a checkout."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

        try:
            return Path(get_package_share_directory(PACKAGE))
        except (PackageNotFoundError, OSError):   # not installed, or no AMENT_PREFIX_PATH
            pass
    except ImportError:
        pass
    return Path(__file__).resolve().parents[3]


def config_path(name: str) -> Path:
    path = share_dir() / "config" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} not found in {path.parent}")
    return path
