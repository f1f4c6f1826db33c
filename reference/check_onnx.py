"""Dev-time: run the official ONNX checker (Debian python3-onnx) with full shape inference on an
exported model and print its opset and metadata. Usage: check_onnx.py <model.onnx>"""
import sys

import onnx

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
print("onnx.checker.check_model(full_check=True): passed")
print("ir", model.ir_version, "opsets", [(o.domain or "ai.onnx", o.version) for o in model.opset_import])
for p in model.metadata_props:
    print(f"  {p.key}: {p.value[:100]}")
