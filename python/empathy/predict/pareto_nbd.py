"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a Poisson rate while alive, death at any time.

Purchase rates lambda ~ Gamma(shape r, rate alpha), death rates mu ~ Gamma(shape s, rate beta). Unlike the
BG/NBD, a customer can leave at any moment, also before a repeat purchase: one-time buyers who have been
silent for long are judged probably gone. Formulas follow Fader & Hardie (2005), "A note on deriving the
Pareto/NBD model and related expressions"; inputs are the ``(frequency, recency, T)`` of ``clv.rfm_summary``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from empathy.predict.clv import _compress, _fit_log_params, _positive, _rfm_arrays, _vector

# Published estimates on the CDNOW sample, 39-week calibration (Fader, Hardie & Lee 2005, table 1).
PUBLISHED_PARETO_NBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
# Gauss-Legendre nodes for the integral over the death time in the probability of no purchase.
_LEGENDRE_NODES = 48
# The largest shape r or s a fit may reach. As a shape grows with its mean (shape / rate) fixed, the rates
# become the same for every customer and the likelihood turns flat along that ridge, while the Gauss
# hypergeometric terms get slow (r + s + x large): a fit on data with no visible spread in death rates ran
# for over an hour drifting s from 1 to 150. At 10 the rates' coefficient of variation is 0.32: the
# homogeneous limit for every practical purpose, reached in bounded time (DECISIONLOG.md).
MAX_SHAPE = 10.0
# Objective calls per optimiser step. Near that limit one call can take 0.5 s on 6,000 distinct customers
# (the hypergeometric series converge slowly as beta / alpha grows), so the cap bounds a fit to minutes;
# every fit seen converging (CDNOW, the demo worlds) needed under 300.
MAX_EVALUATIONS = 500


@dataclass(frozen=True)
class ParetoNBDParams:
    """Fitted Pareto/NBD parameters; ``alpha`` and ``beta`` are in the time unit of the data fitted on."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = float("nan")
    n: float = 0.0
    converged: bool = True
    family = "pareto_nbd"

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "s", "beta"):
            _positive(f"ParetoNBDParams.{name}", getattr(self, name))

    def to_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def prob_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        return pareto_nbd_prob_alive(self, frequency, recency, T)

    def conditional_expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        return pareto_nbd_conditional_expected_purchases(self, t, frequency, recency, T)

    def prob_any_purchase(self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        return pareto_nbd_prob_any_purchase(self, t, frequency, recency, T)


def _log_alive_term(r: float, alpha: float, s: float, beta: float, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    return -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)


def _log_dead_term(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """log of s/(r+s+x) * A0, A0 the difference of two Gauss hypergeometric terms (the note's equation 19)."""
    rsx = r + s + x
    larger = max(alpha, beta)
    second = s + 1 if alpha >= beta else r + x
    gap = abs(alpha - beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_tx = np.log(special.hyp2f1(rsx, second, rsx + 1, gap / (larger + tx))) - rsx * np.log(larger + tx)
        at_t = np.log(special.hyp2f1(rsx, second, rsx + 1, gap / (larger + big_t))) - rsx * np.log(larger + big_t)
        log_a0 = at_tx + np.log1p(-np.exp(np.minimum(at_t - at_tx, 0.0)))
    return np.log(s) - np.log(rsx) + log_a0


def _row_loglik(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    common = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    alive = _log_alive_term(r, alpha, s, beta, x, big_t)
    return common + np.logaddexp(alive, _log_dead_term(r, alpha, s, beta, x, tx, big_t))


def pareto_nbd_log_likelihood(params: ParetoNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
    """Total Pareto/NBD log-likelihood of the data at `params`."""
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    return float(np.sum(_row_loglik(params.r, params.alpha, params.s, params.beta, x, tx, big_t)))


def fit_pareto_nbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBDParams:
    """Maximum-likelihood Pareto/NBD fit (log-parameters, L-BFGS-B then a Nelder-Mead polish)."""
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    if not (x > 0).any():
        raise ValueError("no customer has frequency > 0: the Pareto/NBD needs repeat purchases to estimate anything")
    x, tx, big_t, w = _compress(x, tx, big_t, np.ones_like(x))
    total = w.sum()
    rate = max(float(np.dot(w, x)) / max(float(np.dot(w, big_t)), 1e-12), 1e-6)
    mean_t = float(np.dot(w, big_t)) / total

    def objective(log_params: np.ndarray) -> float:
        return -float(np.dot(w, _row_loglik(*np.exp(log_params), x, tx, big_t))) / total

    # Start at r = s = 0.5 with the rates' means at the Poisson rate and at one death per mean customer age.
    shape_cap = (None, math.log(MAX_SHAPE))
    best, converged = _fit_log_params(
        objective,
        np.log([0.5, 0.5 / rate, 0.5, 0.5 * mean_t]),
        bounds=[shape_cap, (None, None), shape_cap, (None, None)],
        max_evaluations=MAX_EVALUATIONS,
    )
    r, alpha, s, beta = (float(v) for v in np.exp(best))
    return ParetoNBDParams(
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        log_likelihood=float(np.dot(w, _row_loglik(r, alpha, s, beta, x, tx, big_t))),
        n=float(total),
        converged=converged,
    )


def pareto_nbd_prob_alive(
    params: ParetoNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """P(customer still alive at T | frequency, recency, T) (the note's equation 18)."""
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    alive = _log_alive_term(r, alpha, s, beta, x, big_t)
    return np.exp(alive - np.logaddexp(alive, _log_dead_term(r, alpha, s, beta, x, tx, big_t)))


def pareto_nbd_conditional_expected_purchases(
    params: ParetoNBDParams, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected purchases in the next `t` periods after T, given the history (the note's equation 22)."""
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    horizon = _vector("t", t, x.shape[0])
    if (horizon < 0).any():
        raise ValueError("t must be >= 0: it is the length of the prediction period")
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_ratio = np.log(beta + big_t) - np.log(beta + big_t + horizon)
    # E[alive time in (T, T+t)] * (beta+T)^-1 scale: (1 - ratio^(s-1)) / (s-1), its limit -log(ratio) at s = 1.
    survival_integral = -log_ratio if abs(s - 1) < 1e-9 else -np.expm1((s - 1) * log_ratio) / (s - 1)
    rate = (r + x) / (alpha + big_t)
    return rate * (beta + big_t) * survival_integral * pareto_nbd_prob_alive(params, x, tx, big_t)


def pareto_nbd_prob_any_purchase(
    params: ParetoNBDParams, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """P(at least one purchase in the next `t` periods | history).

    Alive at T, the customer makes no purchase in (T, T+t] when they die at u <= t before their next purchase,
    or live through t without one: E[exp(-(lambda+mu)t)] + integral_0^t E[mu exp(-mu u)] E[exp(-lambda u)] du
    over the posterior Gammas (r+x, alpha+T) and (s, beta+T); the integral by Gauss-Legendre quadrature.
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    t = _positive("t", t)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    nodes, weights = np.polynomial.legendre.leggauss(_LEGENDRE_NODES)
    u = (nodes + 1.0) * t / 2.0

    def no_purchase_by(at: np.ndarray) -> np.ndarray:
        return ((alpha + big_t[:, None]) / (alpha + big_t[:, None] + at)) ** (r + x[:, None])

    death_density = s / (beta + big_t[:, None]) * ((beta + big_t[:, None]) / (beta + big_t[:, None] + u)) ** (s + 1)
    died_first = (death_density * no_purchase_by(u[None, :])) @ weights * t / 2.0
    lived_through = no_purchase_by(np.array([[t]]))[:, 0] * ((beta + big_t) / (beta + big_t + t)) ** s
    silent = np.clip(lived_through + died_first, 0.0, 1.0)
    return pareto_nbd_prob_alive(params, x, tx, big_t) * (1.0 - silent)
