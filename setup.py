from glob import glob

from setuptools import find_packages, setup

package_name = "semcom_ros"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={package_name: ["weights/*.safetensors", "weights/*.json", "data/*.npz"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", glob("launch/*.launch.py")),
        ("share/" + package_name + "/config", glob("config/*.yaml") + glob("config/*.xml")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="semcom_ros maintainers",
    maintainer_email="maintainers@semcom-ros.invalid",
    description="Transformer-based semantic communication for robots (ROS 2)",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "semcom-inspect = semcom_ros.inspect_cli:main",
            "semcom-eval = semcom_ros.eval_cli:main",
            "semcom-optimize = semcom_ros.optimize_cli:main",
            "semcom-demo = semcom_ros.demo:main",
            "semcom-train-default = semcom_ros.train_default:main",
            "semcom-train-jscc = semcom_ros.train_jscc:main",
            "image_source = semcom_ros.image_source_node:main",
            "camera_node = semcom_ros.camera_node:main",
            "channel_node = semcom_ros.channel_node:main",
            "server_node = semcom_ros.server_node:main",
            "policy_node = semcom_ros.policy_node:main",
        ],
    },
)
