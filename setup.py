from glob import glob

from setuptools import find_packages, setup

package_name = "semcom_ros"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={package_name: ["bundles/*/*.safetensors", "bundles/*/*.yaml", "data/*.npz"]},
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
            "semcom-bundle = semcom_ros.tools.bundle:main",
            "semcom-inspect = semcom_ros.tools.inspect_model:main",
            "semcom-eval = semcom_ros.tools.evaluate:main",
            "semcom-optimize = semcom_ros.tools.optimize:main",
            "semcom-demo = semcom_ros.tools.demo:main",
            "semcom-train-default = semcom_ros.tools.train_default:main",
            "semcom-train-scenes = semcom_ros.tools.train_scenes:main",
            "semcom-train-jscc = semcom_ros.tools.train_jscc:main",
            "semcom-channel-tables = semcom_ros.tools.channel_tables:main",
            "image_source = semcom_ros.nodes.start:image_source",
            "camera_node = semcom_ros.nodes.start:camera",
            "channel_node = semcom_ros.nodes.start:channel",
            "server_node = semcom_ros.nodes.start:server",
            "policy_node = semcom_ros.nodes.start:policy",
            "fleet_policy_node = semcom_ros.nodes.start:fleet_policy",
            "classifier_node = semcom_ros.nodes.start:classifier",
        ],
    },
)
