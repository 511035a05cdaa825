"""Checks hack/onnx/onnx-subset.proto against the real ONNX schema from the `onnx` Python package:
every message, field (number, type, repeated-ness) and enum value of the subset must exist in ONNX
with the same number and type.

Usage: python hack/onnx/check_subset.py   (needs protoc, and `onnx` + `protobuf` installed)
"""
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2
import onnx.onnx_ml_pb2 as real

here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "subset.pb")
    subprocess.run(["protoc", f"--proto_path={here}", f"--descriptor_set_out={out}", "onnx-subset.proto"], check=True)
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())

problems = []


def check_message(ours, theirs, path):
    real_fields = {f.name: f for f in theirs.fields}
    for field in ours.field:
        other = real_fields.get(field.name)
        if other is None:
            problems.append(f"{path}.{field.name}: not in ONNX")
            continue
        if other.number != field.number:
            problems.append(f"{path}.{field.name}: number {field.number}, ONNX has {other.number}")
        if other.type != field.type:
            problems.append(f"{path}.{field.name}: type {field.type}, ONNX has {other.type}")
        repeated = field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
        if repeated != bool(getattr(other, "is_repeated", None) if hasattr(other, "is_repeated") else other.label == other.LABEL_REPEATED):
            problems.append(f"{path}.{field.name}: repeated-ness differs")
    real_nested = {m.name: m for m in theirs.nested_types}
    for nested in ours.nested_type:
        if nested.name not in real_nested:
            problems.append(f"{path}.{nested.name}: not in ONNX")
        else:
            check_message(nested, real_nested[nested.name], f"{path}.{nested.name}")
    real_enums = {e.name: e for e in theirs.enum_types}
    for enum in ours.enum_type:
        values = {v.name: v.number for v in real_enums[enum.name].values} if enum.name in real_enums else None
        if values is None:
            problems.append(f"{path}.{enum.name}: enum not in ONNX")
            continue
        for value in enum.value:
            if values.get(value.name) != value.number:
                problems.append(f"{path}.{enum.name}.{value.name} = {value.number}, ONNX has {values.get(value.name)}")


for message in fds.file[0].message_type:
    theirs = real.DESCRIPTOR.message_types_by_name.get(message.name)
    if theirs is None:
        problems.append(f"{message.name}: not in ONNX")
    else:
        check_message(message, theirs, message.name)

print("\n".join(problems) if problems else f"onnx-subset.proto matches onnx {real.DESCRIPTOR.package} schema")
sys.exit(1 if problems else 0)
