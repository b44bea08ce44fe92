"""DistMult and ComplEx trained as in Gradient Rollback, with the influence map γ recorded on the way.

Training (paper, Sec. "Experiments"): batch size 1; for each training triple (h, r, t) the tail t and N
sampled negative tails form the candidates of a softmax cross-entropy; Adam with ExponentialDecay;
float64. Design choices (documented in the README):
- Adam is *lazy* (sparse): moments and parameters change only in the rows a step touches - e_h, w_r,
  e_t and the negatives' rows. So every parameter change is caused by exactly one training triple and
  Σ_x γ_x = θ_final − θ_init holds exactly. The negatives' row updates are credited to the triple whose
  step sampled them (the authors' code uses dense Keras Adam and records only the h, r, t rows).
- The triple order of every epoch and the negatives of every (epoch, triple) are drawn up front from the
  seed. Retraining without some triples drops their steps and keeps the order and negatives of all
  others, so deleting an empty set gives the identical model.
- The whole run is one XLA-compiled tf.function (a tf.while_loop over the steps), no per-step Python.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

MODELS = ("distmult", "complex")
F64 = tf.float64


def check_model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return model


def configure_threads(threads: int) -> None:
    """Small ops: one thread each is fastest and keeps jobs from fighting over cores."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.experimental.enable_op_determinism()


def tail_query(model: str, e_h, w_r, concat=np.concatenate):
    """q with score(h, r, t) = q · e_t for every tail t.
    DistMult: s = <e_h, w_r, e_t>, q = e_h ∘ w_r.
    ComplEx (rows hold [Re | Im]): s = Re(<e_h, w_r, conj(e_t)>), q = [Re(e_h w_r) | Im(e_h w_r)]."""
    if model == "distmult":
        return e_h * w_r
    d = e_h.shape[-1] // 2
    hr, hi, rr, ri = e_h[..., :d], e_h[..., d:], w_r[..., :d], w_r[..., d:]
    return concat([hr * rr - hi * ri, hi * rr + hr * ri], -1)


def tail_probabilities(model: str, E: np.ndarray, R: np.ndarray, h: int, r: int) -> np.ndarray:
    """P(t | h, r; θ): softmax over all entities."""
    logits = E @ tail_query(model, E[h], R[r])
    logits = logits - logits.max()
    p = np.exp(logits)
    return p / p.sum()


@dataclass(frozen=True)
class Settings:
    model: str = "distmult"
    dim: int = 10
    epochs: int = 10
    negatives: int = 13
    seed: int = 42
    learning_rate: float = 3e-3
    decay_steps: int = 1000
    decay_rate: float = 0.96
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self):
        check_model(self.model)
        for key in ("dim", "epochs", "negatives", "decay_steps"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")

    @property
    def width(self) -> int:
        """Real numbers per embedding row (ComplEx stores real and imaginary parts)."""
        return self.dim * (2 if self.model == "complex" else 1)


@dataclass
class Influence:
    """γ_x for every training triple x, sparse: only the rows its own steps changed.
    entity_rows[entity_ptr[x]:entity_ptr[x+1]] are the entity ids, entity_delta[...] their accumulated
    changes (width columns); relation_delta[x] is the change of relation row train[x, 1]."""
    entity_ptr: np.ndarray
    entity_rows: np.ndarray
    entity_delta: np.ndarray
    relation_delta: np.ndarray

    def rollback(self, x: int, train: np.ndarray, E: np.ndarray, R: np.ndarray):
        """θ − γ_x, as new (E, R) arrays."""
        lo, hi = self.entity_ptr[x], self.entity_ptr[x + 1]
        E, R = E.copy(), R.copy()
        E[self.entity_rows[lo:hi]] -= self.entity_delta[lo:hi]
        R[train[x, 1]] -= self.relation_delta[x]
        return E, R

    def save(self, path) -> None:
        np.savez(path, **vars(self))

    @classmethod
    def load(cls, path) -> "Influence":
        with np.load(path) as f:
            return cls(**{k: f[k] for k in ("entity_ptr", "entity_rows", "entity_delta", "relation_delta")})


@dataclass
class Trained:
    E: np.ndarray
    R: np.ndarray
    E0: np.ndarray
    R0: np.ndarray
    influence: Influence | None


def _schedule(s: Settings, n_entities: int, n_relations: int, train: np.ndarray):
    """Initial parameters (Glorot-uniform), triple order and negatives, all from the seed and
    independent of deletions."""
    rng = np.random.default_rng(s.seed)
    E0, R0 = (rng.uniform(-b, b, (n, s.width)) for n in (n_entities, n_relations)
              for b in [np.sqrt(6.0 / (n + s.width))])
    order = np.stack([rng.permutation(len(train)) for _ in range(s.epochs)])
    # Negatives: N distinct entities other than the true tail (all others when N >= n_entities - 1).
    k = min(s.negatives, n_entities - 1)
    if k == n_entities - 1:
        others = np.arange(k)
        negs = np.broadcast_to(others + (others >= train[:, 2:3]), (s.epochs, len(train), k))
    else:
        negs = np.empty((s.epochs, len(train), k), np.int64)
        for e in range(s.epochs):
            for x, t in enumerate(train[:, 2]):
                draw = rng.choice(n_entities - 1, k, replace=False)
                negs[e, x] = draw + (draw >= t)
    return E0, R0, order, negs


class Trainer:
    """Compiled training for one (settings, graph size); reuse it for many retrainings."""

    def __init__(self, settings: Settings, n_entities: int, n_relations: int):
        self.s, self.n_entities, self.n_relations = settings, n_entities, n_relations
        zeros = lambda n: tf.Variable(tf.zeros((n, settings.width), F64))  # noqa: E731
        self.E, self.mE, self.vE = zeros(n_entities), zeros(n_entities), zeros(n_entities)
        self.R, self.mR, self.vR = zeros(n_relations), zeros(n_relations), zeros(n_relations)
        rows_per_step = 2 + min(settings.negatives, n_entities - 1)  # h, t and the negatives
        spec = [tf.TensorSpec([None, rows_per_step], tf.int64), tf.TensorSpec([None], tf.int64),
                tf.TensorSpec([], tf.int32)]
        self._tracked = tf.function(lambda *a: self._loop(*a, track=True), input_signature=spec, jit_compile=True)
        self._plain = tf.function(lambda *a: self._loop(*a, track=False), input_signature=spec, jit_compile=True)

    def _adam_rows(self, var, m_var, v_var, rows, grad, t, lr):
        """Lazy Adam on `rows` only; returns the parameter change of those rows."""
        s = self.s
        m = s.beta_1 * tf.gather(m_var, rows) + (1 - s.beta_1) * grad
        v = s.beta_2 * tf.gather(v_var, rows) + (1 - s.beta_2) * grad * grad
        m_var.scatter_nd_update(rows[:, None], m)
        v_var.scatter_nd_update(rows[:, None], v)
        alpha = lr * tf.sqrt(1 - s.beta_2 ** t) / (1 - s.beta_1 ** t)
        change = -alpha * m / (tf.sqrt(v) + s.epsilon)
        var.scatter_nd_update(rows[:, None], tf.gather(var, rows) + change)  # rows may repeat: no add
        return change

    def _loop(self, ent_rows, rels, steps, track):
        """ent_rows[i] = [h, t, negatives...] of step i, rels[i] = r, for the first `steps` rows (the
        arrays keep the full schedule's length, so XLA compiles once for every deletion set).
        Returns the per-step changes."""
        s, width = self.s, ent_rows.shape[1]
        size = tf.shape(ent_rows)[0] if track else 0
        gamma_e = tf.TensorArray(F64, size=size, element_shape=[width, s.width])
        gamma_r = tf.TensorArray(F64, size=size, element_shape=[s.width])
        i = tf.constant(0)
        while i < steps:  # a run-time trip count: one XLA compilation serves every deletion set
            rows, r = ent_rows[i], rels[i]
            t = tf.cast(i + 1, F64)
            lr = s.learning_rate * s.decay_rate ** (tf.cast(i, F64) / s.decay_steps)
            emb, w_r = tf.gather(self.E, rows), tf.gather(self.R, r)  # not R[r]: XLA would recompile per rels
            with tf.GradientTape() as tape:
                tape.watch([emb, w_r])
                logits = tf.linalg.matvec(emb[1:], tail_query(s.model, emb[0], w_r, tf.concat))
                loss = -tf.nn.log_softmax(logits)[0]  # candidate 0 is the true tail
            g_emb, g_r = tape.gradient(loss, [emb, w_r])
            # h may also be a candidate: every position of a row gets the row's summed gradient, so the
            # repeated row gets the same Adam update twice, written (not added) once. Static shapes: XLA.
            same = tf.cast(tf.equal(rows[:, None], rows[None, :]), F64)
            change_e = self._adam_rows(self.E, self.mE, self.vE, rows, tf.matmul(same, g_emb), t, lr)
            change_r = self._adam_rows(self.R, self.mR, self.vR, r[None], g_r[None], t, lr)
            if track:  # per position; a row repeated within the step is counted once in _compress
                gamma_e = gamma_e.write(i, change_e)
                gamma_r = gamma_r.write(i, change_r[0])
            i += 1
        if track:
            return gamma_e.stack(), gamma_r.stack()
        return tf.zeros([0, width, s.width], F64), tf.zeros([0, s.width], F64)

    def train(self, train: np.ndarray, removed=(), track: bool = True, redraw: bool = False) -> Trained:
        """Train on `train` minus the triples with indices in `removed`; record γ if `track`.

        redraw=False keeps the order and negatives the full set's schedule gives the kept triples (a
        deletion changes nothing else). redraw=True draws the schedule for the kept triples alone, as
        rerunning a seeded trainer on the smaller file does: every step after the first one differs."""
        s = self.s
        keep = np.ones(len(train), bool)
        keep[np.asarray(list(removed), np.int64)] = False
        if redraw:
            kept = np.flatnonzero(keep)
            E0, R0, order, negs = _schedule(s, self.n_entities, self.n_relations, train[kept])
            epoch, position = np.repeat(np.arange(s.epochs), len(kept)), order.ravel()
            step_triple, step_negs = kept[position], negs[epoch, position]
        else:
            E0, R0, order, negs = _schedule(s, self.n_entities, self.n_relations, train)
            epoch, step_triple = np.nonzero(keep[order])[0], order[keep[order]]
            step_negs = negs[epoch, step_triple]
        ent_rows = np.concatenate([train[step_triple][:, [0, 2]], step_negs], axis=1)
        for var, value in ((self.E, E0), (self.R, R0)):
            var.assign(value)
        for var in (self.mE, self.vE, self.mR, self.vR):
            var.assign(tf.zeros_like(var))
        run = self._tracked if track else self._plain
        steps, padding = len(step_triple), s.epochs * len(train) - len(step_triple)
        gamma_e, gamma_r = run(tf.constant(np.pad(ent_rows, ((0, padding), (0, 0)))),
                               tf.constant(np.pad(train[step_triple, 1], (0, padding))), tf.constant(steps, tf.int32))
        influence = _compress(train, step_triple, ent_rows, gamma_e.numpy()[:steps], gamma_r.numpy()[:steps],
                              self.n_entities) if track else None
        return Trained(self.E.numpy(), self.R.numpy(), E0, R0, influence)


def _compress(train, step_triple, ent_rows, gamma_e, gamma_r, n_entities) -> Influence:
    """Per-step changes → per-triple sums over its rows (CSR by triple, entity ids ascending)."""
    width = gamma_e.shape[-1]
    # Candidates are distinct, so a row repeats within a step only when h is also a candidate: the
    # change of that row is then counted once, at position 0.
    repeated = np.concatenate([np.zeros((len(ent_rows), 1), bool), ent_rows[:, 1:] == ent_rows[:, :1]], 1)
    gamma_e = np.where(repeated[:, :, None], 0.0, gamma_e)
    key = np.repeat(step_triple, ent_rows.shape[1]) * n_entities + ent_rows.ravel()
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    delta = np.add.reduceat(gamma_e.reshape(-1, width)[order], starts, axis=0)
    owner, rows = key[starts] // n_entities, key[starts] % n_entities
    relation_delta = np.zeros((len(train), width))
    np.add.at(relation_delta, step_triple, gamma_r)
    ptr = np.searchsorted(owner, np.arange(len(train) + 1))
    return Influence(ptr.astype(np.int64), rows.astype(np.int64), delta, relation_delta)
