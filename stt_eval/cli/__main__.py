"""python -m stt_eval.cli"""

import sys

from stt_eval.cli import main

sys.exit(main())
