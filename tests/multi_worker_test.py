"""Training on two workers: tf.distribute.MultiWorkerMirroredStrategy.

Two worker processes on localhost (free ports, a TF_CONFIG each), bounded
in time and always stopped. Each worker runs the same program and writes
what it saw to a file; the parent compares them:

- a custom training step (`strategy.run`) with `dropblock` and with
  `spatial_dropout`, one op-level seed: masks differ between the workers
  (each replica draws its own) and between steps; the same seeds
  reproduce them; the all-reduced gradients and the updated weights agree
  across workers;
- a Keras `fit` with `DropBlock2D` where the Keras in use supports
  multi-worker `fit` (Keras 2: TF <= 2.15's tf.keras or tf_keras); Keras 3's
  `fit` fails under this strategy in its own input handling, before any
  layer runs ("... PerReplica ... to a Tensor" on TF 2.21), so it is
  skipped there with the reason (use a custom loop, as above).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

from tf1_dropblock import compat

_WORKER_FLAG = "--multi_worker_child"
# Generous: two TensorFlow start-ups and a gRPC rendezvous on 2 cores.
_TIMEOUT_SECONDS = 300


def _free_ports(count):
  """Ports free now (bound to 0, read, released)."""
  sockets, ports = [], []
  try:
    for _ in range(count):
      s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
      s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      s.bind(("localhost", 0))
      sockets.append(s)
      ports.append(s.getsockname()[1])
  finally:
    for s in sockets:
      s.close()
  return ports


def _run_workers(mode, folder, num_workers=2):
  """Starts `num_workers` children in `mode`; returns their outputs (dicts).

  Raises AssertionError with the workers' logs when one fails or the time
  runs out; every child is killed on the way out.
  """
  ports = _free_ports(num_workers)
  cluster = {"worker": ["localhost:%d" % p for p in ports]}
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  procs, logs = [], []
  try:
    for index in range(num_workers):
      env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                 TF_CONFIG=json.dumps({"cluster": cluster, "task": {
                     "type": "worker", "index": index}}),
                 PYTHONPATH=os.pathsep.join(
                     [root] + [p for p in [os.environ.get("PYTHONPATH")]
                               if p]))
      log = open(os.path.join(folder, "worker%d.log" % index), "w+")
      logs.append(log)
      procs.append(subprocess.Popen(
          [sys.executable, os.path.abspath(__file__), _WORKER_FLAG, mode,
           os.path.join(folder, "worker%d.json" % index)],
          env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.time() + _TIMEOUT_SECONDS
    while any(p.poll() is None for p in procs) and time.time() < deadline:
      if any(p.poll() not in (None, 0) for p in procs):
        break  # One failed: the other would wait for it forever.
      time.sleep(0.2)
    codes = [p.poll() for p in procs]
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
        p.wait()
  text = []
  for index, log in enumerate(logs):
    log.seek(0)
    text.append("--- worker %d (exit %s) ---\n%s"
                % (index, codes[index], log.read()[-3000:]))
    log.close()
  if codes != [0] * num_workers:
    raise AssertionError("workers did not finish in %d s:\n%s"
                         % (_TIMEOUT_SECONDS, "\n".join(text)))
  outputs = []
  for index in range(num_workers):
    with open(os.path.join(folder, "worker%d.json" % index)) as f:
      outputs.append(json.load(f))
  return outputs


def _keras_fit_supported():
  """(supported, reason): multi-worker `fit` needs Keras 2."""
  if compat.is_keras3():
    return False, ("Keras 3's fit fails under MultiWorkerMirroredStrategy "
                   "in its own input handling (a PerReplica batch it cannot "
                   "convert), whatever the layers; use a custom training "
                   "loop")
  return True, ""


@unittest.skipUnless(compat.TF_VERSION >= (2, 4),
                     "MultiWorkerMirroredStrategy is stable from TF 2.4.")
class MultiWorkerTest(unittest.TestCase):

  def setUp(self):
    super().setUp()
    self._folder = tempfile.TemporaryDirectory()
    self.addCleanup(self._folder.cleanup)

  def test_custom_step_masks_per_worker_and_gradients_agree(self):
    first, second = _run_workers("custom", self._folder.name)
    for op in ("dropblock", "spatial_dropout"):
      a, b = first[op], second[op]
      self.assertEqual((a["replica_id"], b["replica_id"]), (0, 1))
      self.assertEqual(a["num_replicas"], 2)
      masks_a, masks_b = (np.array(a["masks"]), np.array(b["masks"]))
      # Both workers ran the same program, same inputs, one op seed: the
      # masks still differ, between workers and between steps, ...
      self.assertFalse(np.array_equal(masks_a[0], masks_b[0]), op)
      self.assertFalse(np.array_equal(masks_a[0], masks_a[1]), op)
      # ... and the same seeds reproduce them.
      np.testing.assert_array_equal(masks_a[0], a["reproduced"], err_msg=op)
      np.testing.assert_array_equal(masks_b[0], b["reproduced"], err_msg=op)
      # Each keeps keep_prob = 0.7 of its units on average. DropBlock:
      # 2 steps x 2 x 12 x 12 x 8 units in 3 x 3 blocks, about 500
      # independent blocks, sd < 0.025: 0.15 is 6 sd. spatial_dropout: 32
      # channel draws, sd 0.081: 0.3 is 3.7 sd.
      tolerance = 0.15 if op == "dropblock" else 0.3
      self.assertLess(abs(masks_a.mean() - 0.7), tolerance, op)
      # Local gradients differ (different masks); the all-reduced sum and
      # the weights after two SGD steps agree.
      self.assertFalse(np.allclose(a["local_grad"], b["local_grad"]), op)
      np.testing.assert_allclose(a["summed_grad"], b["summed_grad"],
                                 rtol=1e-5, atol=1e-6, err_msg=op)
      np.testing.assert_allclose(
          a["summed_grad"], np.add(a["local_grad"], b["local_grad"]),
          rtol=1e-5, atol=1e-5, err_msg=op)
      np.testing.assert_allclose(a["kernel"], b["kernel"], rtol=1e-6,
                                 err_msg=op)
      self.assertFalse(np.allclose(a["kernel"], a["initial_kernel"]))

  def test_keras_fit_with_dropblock2d_agrees_across_workers(self):
    supported, reason = _keras_fit_supported()
    if not supported:
      self.skipTest(reason)
    first, second = _run_workers("keras_fit", self._folder.name)
    self.assertEqual(len(first["weights"]), len(second["weights"]))
    for wa, wb in zip(first["weights"], second["weights"]):
      np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    self.assertTrue(np.isfinite(first["loss"]))
    self.assertFalse(np.allclose(first["weights"][0],
                                 first["initial_weights"][0]))


# --- The worker program -----------------------------------------------------


def _custom_worker(strategy, tf):
  import tf1_dropblock  # pylint: disable=g-import-not-at-top
  initial = np.random.RandomState(0).normal(
      0, 0.3, (3, 3, 3, 8)).astype(np.float32)
  x = np.random.RandomState(1).uniform(size=(2, 12, 12, 3)).astype(
      np.float32)
  ops = {
      "dropblock": lambda y, s: tf1_dropblock.dropblock(
          y, 0.7, 3, training=True, seed=s),
      "spatial_dropout": lambda y, s: tf1_dropblock.spatial_dropout(
          y, 0.7, training=True, seed=s),
  }
  out = {}
  for name, op in ops.items():
    with strategy.scope():
      kernel = tf.Variable(initial, aggregation=tf.VariableAggregation.MEAN)

    def make_step(op=op, kernel=kernel):
      @tf.function
      def step(x):
        def replica_fn(x):
          with tf.GradientTape() as tape:
            y = op(tf.nn.conv2d(x, kernel, 1, "SAME"), 1234)
            loss = tf.reduce_sum(tf.square(y))
          grad = tape.gradient(loss, kernel)
          context = tf.distribute.get_replica_context()
          summed = context.all_reduce(tf.distribute.ReduceOp.SUM, grad)
          kernel.assign_sub(0.001 * summed)
          return (tf.cast(tf.not_equal(y, 0), tf.int32), grad, summed,
                  context.replica_id_in_sync_group)
        return strategy.run(replica_fn, args=(x,))
      return step

    def local(value):
      return strategy.experimental_local_results(value)[0].numpy()

    tf.random.set_seed(5)
    step = make_step()
    results = [step(x) for _ in range(2)]
    tf.random.set_seed(5)
    reproduced = make_step()(x)
    out[name] = {
        "replica_id": int(local(results[0][3])),
        "num_replicas": strategy.num_replicas_in_sync,
        "masks": [local(r[0]).tolist() for r in results],
        "reproduced": local(reproduced[0]).tolist(),
        "local_grad": local(results[0][1]).tolist(),
        "summed_grad": local(results[0][2]).tolist(),
        "initial_kernel": initial.tolist(),
        # Three updates (two steps, one reproduction), all synchronised.
        "kernel": kernel.numpy().tolist(),
    }
  return out


def _keras_fit_worker(strategy, tf):
  from tf1_dropblock import layers  # pylint: disable=g-import-not-at-top
  keras = compat.keras()
  rng = np.random.RandomState(0)
  images = rng.uniform(size=(32, 12, 12, 3)).astype(np.float32)
  labels = rng.randint(2, size=(32,)).astype(np.int64)
  with strategy.scope():
    tf.random.set_seed(3)
    model = keras.Sequential([
        keras.layers.Conv2D(8, 3, padding="same", input_shape=(12, 12, 3),
                            kernel_initializer=keras.initializers.GlorotUniform(
                                seed=1)),
        layers.DropBlock2D(keep_prob=0.8, block_size=3, seed=7),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, kernel_initializer=keras.initializers
                           .GlorotUniform(seed=2)),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
  initial = [w.tolist() for w in model.get_weights()]
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = (
      tf.data.experimental.AutoShardPolicy.DATA)
  dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(
      8).with_options(options)
  history = model.fit(dataset, epochs=2, verbose=0)
  return {"weights": [w.tolist() for w in model.get_weights()],
          "initial_weights": initial,
          "loss": float(history.history["loss"][-1])}


def _worker_main(mode, output):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  strategy = tf.distribute.MultiWorkerMirroredStrategy()
  result = (_custom_worker if mode == "custom" else _keras_fit_worker)(
      strategy, tf)
  temporary = output + ".tmp"
  with open(temporary, "w") as f:
    json.dump(result, f)
  os.replace(temporary, output)


if __name__ == "__main__":
  if len(sys.argv) == 4 and sys.argv[1] == _WORKER_FLAG:
    _worker_main(sys.argv[2], sys.argv[3])
  else:
    unittest.main()
