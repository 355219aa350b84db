"""The device report (benchmarks/devices.py) and no host fallback on GPUs.

The report runs anywhere at a tiny size. On a TensorFlow wheel that
registers GPU kernels (the full `tensorflow` wheel, with or without a
GPU), every op of a call that does device work (an output that is not
int32 shape arithmetic) must have a GPU kernel: one without would copy its
tensors between host and device every step. `tensorflow-cpu` registers
CPU kernels only (and TF 1.15.5's wheel registered none for GPU on our
machines); there the check is skipped, saying so.
"""

import os
import sys
import unittest

from tf1_dropblock import compat

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "benchmarks"))
import devices  # pylint: disable=g-import-not-at-top,wrong-import-position

_SHAPE = "2x9x10x4"
_MODES = ("feed", "graph") + (("function", "xla", "eager")
                              if compat.IS_TF2 else ())


class DeviceReportTest(unittest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    # Every configuration where the registry can answer the GPU question;
    # a few elsewhere (the report's plumbing only).
    cls.full = devices.registry_has_gpu_kernels()
    cls.calls = (list(devices.CALLS) if cls.full else
                 ["dropblock_b3", "tf.nn.dropout"])
    cls.formats = ["NHWC", "NCHW"] if cls.full else ["NCHW"]
    cls.results = devices.report(_SHAPE, _MODES, cls.formats, cls.calls, 0.8)

  def test_every_configuration_is_reported(self):
    self.assertEqual(len(self.results),
                     len(_MODES) * len(self.formats) * len(self.calls))
    for key, result in self.results.items():
      self.assertNotIn("error", result, key)
      self.assertGreater(result["ops"], 0, key)
      self.assertLessEqual(result["device_ops"], result["ops"], key)
      self.assertLessEqual(result["gpu_ops"], result["device_ops"], key)
      for op_type, info in result["types"].items():
        self.assertGreater(info["count"], 0)
        # Every op the call runs has a kernel for this CPU.
        self.assertTrue({"CPU", "DEFAULT"} & set(info["devices"]),
                        (key, op_type, info))
    if compat.IS_TF2:
      xla = self.results["xla NCHW dropblock_b3"]
      self.assertGreater(xla["xla_kernels"], 0)
      self.assertGreater(self.results["xla NCHW tf.nn.dropout"]
                         ["xla_kernels"], 0)
    text = devices.format_report(self.results, per_op=True)
    self.assertIn("| graph NCHW dropblock_b3 |", text)
    self.assertIn("TensorFlow %s" % compat.VERSION, text)

  def test_no_op_of_a_call_lacks_a_gpu_kernel(self):
    if not self.full:
      self.skipTest("TensorFlow %s registers no GPU kernels here (a "
                    "CPU-only wheel such as tensorflow-cpu, or GPU kernels "
                    "not registered on this machine, as with TF 1.15.5), "
                    "so which ops have one cannot be read" % compat.VERSION)
    missing = {key: r["device_ops_without_gpu_kernel"]
               for key, r in self.results.items()
               if r["device_ops_without_gpu_kernel"]
               and not key.endswith("tf.nn.dropout")}
    self.assertEqual(missing, {})
    full = {key: r["full_size_without_gpu_kernel"]
            for key, r in self.results.items()
            if r["full_size_without_gpu_kernel"]}
    self.assertEqual(full, {})


if __name__ == "__main__":
  unittest.main()
