"""The whole system on one machine: the edge side and the server side together.

Same arguments as edge.launch.py and server.launch.py (see there); only the
default of ``use_image_source`` differs: the built-in image source (the shelf) is on.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import (PythonLaunchDescriptionSource,
                                               get_launch_description_from_python_launch_file)
from launch.substitutions import LaunchConfiguration


def generate_launch_description():
    here = os.path.join(get_package_share_directory("semcom_ros"), "launch")
    files = [os.path.join(here, name) for name in ("edge.launch.py", "server.launch.py")]
    declared = {}
    for path in files:          # re-declare the included files' arguments, so choices are checked first
        for a in get_launch_description_from_python_launch_file(path).get_launch_arguments():
            declared.setdefault(a.name, a)
    arguments = []
    for name, a in declared.items():
        default = "true" if name == "use_image_source" else a.default_value
        description = a.description.split(" Valid choices are:")[0]     # re-declaring appends them again
        arguments.append(DeclareLaunchArgument(name, default_value=default, description=description,
                                               choices=a.choices))
    forwarded = [(name, LaunchConfiguration(name)) for name in declared]
    return LaunchDescription([
        *arguments,
        *(IncludeLaunchDescription(PythonLaunchDescriptionSource(path), launch_arguments=forwarded)
          for path in files),
    ])
