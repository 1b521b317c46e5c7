"""`python3 -m onnx_opt in.onnx -p PIPELINE -o out.onnx`: the onnx-opt command line."""
import sys

from . import _onnx_opt


def main() -> int:
    sys.stdout.flush()
    return _onnx_opt.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
