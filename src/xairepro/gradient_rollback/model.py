"""DistMult and ComplEx trained as in Gradient Rollback, with the influence map γ recorded on the way.

Training (paper, Sec. "Experiments"): batch size 1; for each training triple (h, r, t) the tail t and N
sampled negative tails form the candidates of a softmax cross-entropy; Adam with ExponentialDecay;
float64. Design choices (documented in the README):
- Adam is *lazy* (sparse): moments and parameters change only in the rows a step touches - e_h, w_r,
  e_t and the negatives' rows. So every parameter change is caused by exactly one training triple.
- `credit="touched"` credits all of them to the triple whose step made them, negatives' rows included,
  so Σ_x γ_x = θ_final − θ_init holds exactly. γ then holds (negatives + 2) rows per triple and step:
  ~110 GB for FB15k-237 at the paper's 500 negatives. `credit="hrt"` records only the triple's own
  e_h, w_r, e_t, as the authors' code does (which uses dense Keras Adam): 2 rows per triple.
- The triple order of every epoch and the negatives of every (epoch, triple) are drawn up front from the
  seed. Retraining without some triples drops their steps and keeps the order and negatives of all
  others, so deleting an empty set gives the identical model.
- The whole run is one XLA-compiled tf.function (a tf.while_loop over the steps), no per-step Python.
  γ is summed per (triple, row) inside the loop, into slots numbered before the run.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

MODELS = ("distmult", "complex")
CREDITS = ("touched", "hrt")
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
    credit: str = "touched"

    def __post_init__(self):
        check_model(self.model)
        if self.credit not in CREDITS:
            raise ValueError(f"unknown credit {self.credit!r}; choose one of {', '.join(CREDITS)}")
        for key in ("dim", "epochs", "negatives", "decay_steps"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")

    @property
    def width(self) -> int:
        """Real numbers per embedding row (ComplEx stores real and imaginary parts)."""
        return self.dim * (2 if self.model == "complex" else 1)

    def step_rows(self, n_entities: int) -> int:
        """Entity rows a step touches: h, t and the negatives (all other entities when fewer)."""
        return 2 + min(self.negatives, n_entities - 1)

    def credited_rows(self, n_entities: int) -> int:
        """Entity rows of a step credited to its triple: h, t (and the negatives when "touched")."""
        return self.step_rows(n_entities) if self.credit == "touched" else 2


@dataclass
class Influence:
    """γ_x for every training triple x, sparse: only the rows its own steps changed.
    entity_rows[entity_ptr[x]:entity_ptr[x+1]] are the entity ids, entity_delta[...] their accumulated
    changes (width columns); relation_delta[x] is the change of relation row train[x, 1]."""
    entity_ptr: np.ndarray
    entity_rows: np.ndarray
    entity_delta: np.ndarray
    relation_delta: np.ndarray

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
        steps = [tf.TensorSpec([None, settings.step_rows(n_entities)], tf.int64), tf.TensorSpec([None], tf.int64),
                 tf.TensorSpec([], tf.int32)]
        # γ slots: per step the slot of each credited row and the triple (relation row); the sums.
        slots = [tf.TensorSpec([None, settings.credited_rows(n_entities)], tf.int64), tf.TensorSpec([None], tf.int64),
                 tf.TensorSpec([None, settings.width], F64), tf.TensorSpec([None, settings.width], F64)]
        self._tracked = tf.function(self._loop, input_signature=steps + slots, jit_compile=True)
        self._plain = tf.function(self._loop, input_signature=steps, jit_compile=True)

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

    def _loop(self, ent_rows, rels, steps, entity_slot=None, step_triple=None, gamma_e=None, gamma_r=None):
        """ent_rows[i] = [h, t, negatives...] of step i, rels[i] = r, for the first `steps` rows (the
        arrays keep the full schedule's length, so XLA compiles once for every deletion set).
        Tracked (slots given): adds step i's changes of its credited rows to gamma_e[entity_slot[i]]
        and of w_r to gamma_r[step_triple[i]], and returns both sums."""
        s, track = self.s, entity_slot is not None
        if not track:  # autograph wants every loop variable defined before the loop
            gamma_e = gamma_r = tf.zeros([0], F64)
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
            # Candidates are distinct, but h may be one of them: both positions of that row get the row's
            # summed gradient, so they get the same Adam update, written (not added) once. Static shapes.
            is_h = tf.cast(tf.equal(rows[1:], rows[0]), F64)
            g_rows = g_emb + tf.concat([tf.linalg.matvec(g_emb[1:], is_h, transpose_a=True)[None],
                                        is_h[:, None] * g_emb[0]], 0)
            change_e = self._adam_rows(self.E, self.mE, self.vE, rows, g_rows, t, lr)
            change_r = self._adam_rows(self.R, self.mR, self.vR, r[None], g_r[None], t, lr)
            if track:
                credited = entity_slot.shape[1]
                gamma_e = tf.tensor_scatter_nd_add(gamma_e, entity_slot[i][:, None], change_e[:credited])
                gamma_r = tf.tensor_scatter_nd_add(gamma_r, step_triple[i][None, None], change_r)
            i += 1
        return (gamma_e, gamma_r) if track else ()

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
        steps, padding = len(step_triple), s.epochs * len(train) - len(step_triple)
        pad = lambda a: tf.constant(np.pad(a, [(0, padding)] + [(0, 0)] * (a.ndim - 1)))  # noqa: E731
        args = [pad(ent_rows), pad(train[step_triple, 1]), tf.constant(steps, tf.int32)]
        if not track:
            self._plain(*args)
            return Trained(self.E.numpy(), self.R.numpy(), E0, R0, None)
        keys, entity_slot = _slots(step_triple, ent_rows[:, :s.credited_rows(self.n_entities)], len(train),
                                   self.n_entities)
        # One spare slot (the last) takes the change of a row repeated within a step (see _slots).
        gamma_e, gamma_r = self._tracked(*args, pad(entity_slot), pad(step_triple),
                                         tf.zeros((len(keys) + 1, s.width), F64), tf.zeros((len(train), s.width), F64))
        owner = keys // self.n_entities
        influence = Influence(np.searchsorted(owner, np.arange(len(train) + 1)).astype(np.int64),
                              keys % self.n_entities, gamma_e.numpy()[:-1], gamma_r.numpy())
        return Trained(self.E.numpy(), self.R.numpy(), E0, R0, influence)


def _slots(step_triple, rows, n_triples, n_entities):
    """Number the distinct (triple, entity row) pairs of the credited rows in (triple, row) order: the
    sorted keys triple * n_entities + row, and each step's slot per credited row. Candidates are
    distinct, so a row repeats within a step only when h is also a candidate: that change is credited
    once, at position 0, and the repeat goes to the spare slot len(keys)."""
    key = step_triple[:, None] * n_entities + rows
    repeated = np.zeros(rows.shape, bool)
    repeated[:, 1:] = rows[:, 1:] == rows[:, :1]
    keys, slot = unique_inverse(key[~repeated], n_triples * n_entities)
    entity_slot = np.full(rows.shape, len(keys), np.int64)
    entity_slot[~repeated] = slot
    return keys, entity_slot


def unique_inverse(values: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for values in [0, bound). Where bound is small (Nations:
    1592 triples × 14 entities) a marked table is 20× faster than np.unique's sort."""
    if bound > 4 * len(values):
        return np.unique(values, return_inverse=True)
    seen = np.zeros(bound, bool)
    seen[values] = True
    return np.flatnonzero(seen), (np.cumsum(seen) - 1)[values]
