"""
SpERT's optimizer with a separate learning rate for the task heads.
"""

import logging
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.training.optimizers import Optimizer

logger = logging.getLogger(__name__)

# A step count at which beta ** step is 0 in float32 for any beta < 1 used in practice.
_NO_BIAS_CORRECTION = 1e9


@Optimizer.register("spert_adamw")
class SpertAdamW(Optimizer):
    """
    AdamW as SpERT trains with it (transformers' `AdamW`: decoupled weight decay applied after the
    Adam step, `eps` added to the square root, bias correction optional, off in SpERT), and two
    learning rates: `lr` for the encoder and `head_lr` for everything else (the width embedding
    and the entity and relation heads).

    Parameters are split by *module name*: the encoder is every parameter whose name starts with
    `encoder_prefix` (the model's `_embedder`), so any transformer works. Parameters whose name
    matches one of `no_decay` get no weight decay. The four resulting groups carry their own
    `lr`, which learning-rate schedulers scale.

    Registered as an `Optimizer` with name "spert_adamw".

    # Parameters

    model_parameters : `List[Tuple[str, torch.nn.Parameter]]`
        Filled in by the trainer.
    lr : `float`, optional (default = `5e-5`)
        Learning rate of the encoder.
    head_lr : `float`, optional (default = `None`)
        Learning rate of the parameters outside the encoder; `None` means `lr` (one learning rate,
        as in SpERT and the paper read literally).
    betas : `Tuple[float, float]`, optional (default = `(0.9, 0.999)`)
    eps : `float`, optional (default = `1e-6`)
    weight_decay : `float`, optional (default = `0.01`)
    correct_bias : `bool`, optional (default = `False`)
        Adam's bias correction; SpERT trains without it.
    no_decay : `List[str]`, optional
        Regular expressions (searched in the parameter name) of parameters without weight decay:
        biases and LayerNorm weights, as in SpERT.
    encoder_prefix : `str`, optional (default = `"_embedder."`)
        Name prefix of the encoder's parameters.
    fused : `bool`, optional (default = `None`)
        Use torch's fused AdamW kernel (one pass over the memory instead of eight: the step of a
        22M-parameter encoder on one CPU core drops from about 150 to 50 ms). `None` uses it where
        torch has it and `correct_bias` is off. The update is transformers' AdamW's either way.
    max_grad_norm : `float`, optional (default = `None`)
        Clip the gradients to this total norm (over all parameters, as `clip_grad_norm_` does)
        within the step, instead of the trainer's `grad_norm`: the fused kernel divides the
        gradients by the clipping factor as it reads them, which saves a pass over every
        gradient (about 13 ms of a 150 ms step on one CPU core). Set the trainer's `grad_norm` to
        `false` then, or the gradients are clipped twice (harmless, but the saving is gone).
    """

    def __init__(
        self,
        model_parameters: List[Tuple[str, torch.nn.Parameter]],
        lr: float = 5e-5,
        head_lr: Optional[float] = None,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.01,
        correct_bias: bool = False,
        no_decay: Sequence[str] = ("bias", r"LayerNorm\.weight", r"layer_norm\.weight"),
        encoder_prefix: str = "_embedder.",
        fused: Optional[bool] = None,
        max_grad_norm: Optional[float] = None,
    ) -> None:
        head_lr = lr if head_lr is None else head_lr
        groups: Dict[Tuple[bool, bool], List[torch.nn.Parameter]] = {}
        names: Dict[Tuple[bool, bool], List[str]] = {}
        for name, parameter in model_parameters:
            if not parameter.requires_grad:
                continue
            key = (not name.startswith(encoder_prefix), any(re.search(pattern, name) for pattern in no_decay))
            groups.setdefault(key, []).append(parameter)
            names.setdefault(key, []).append(name)
        if not any(is_head for is_head, _ in groups):
            logger.warning("spert_adamw: no parameter outside %r: head_lr has no effect", encoder_prefix)
        if not any(not is_head for is_head, _ in groups):
            logger.warning("spert_adamw: no parameter starts with %r: lr applies to nothing", encoder_prefix)
        param_groups = []
        for (is_head, decay_free), parameters in sorted(groups.items()):
            param_groups.append(
                {
                    "params": parameters,
                    "lr": head_lr if is_head else lr,
                    "weight_decay": 0.0 if decay_free else weight_decay,
                    "group_name": ("heads" if is_head else "encoder") + (", no decay" if decay_free else ""),
                }
            )
            logger.info(
                "spert_adamw group %s: %d tensors, lr %g, weight decay %g",
                param_groups[-1]["group_name"],
                len(parameters),
                param_groups[-1]["lr"],
                param_groups[-1]["weight_decay"],
            )
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, correct_bias=correct_bias)
        super().__init__(param_groups, defaults)
        has_kernel = hasattr(torch, "_fused_adamw_")
        if fused and not has_kernel:
            raise ConfigurationError("spert_adamw: this torch has no fused AdamW kernel; set fused to false or null")
        self._fused = has_kernel if fused is None else fused
        self.max_grad_norm = max_grad_norm
        # The fused kernel reads a step count per tensor: one constant tensor serves them all.
        self._no_bias_correction_steps: Dict[torch.device, torch.Tensor] = {}

    @property
    def max_grad_norm(self) -> Optional[float]:
        """The clipping norm of `step` (`None`: no clipping); settable, for the next steps."""
        return self._max_grad_norm

    @max_grad_norm.setter
    def max_grad_norm(self, value: Optional[float]) -> None:
        if value is not None and value <= 0:
            raise ConfigurationError(f"spert_adamw: max_grad_norm must be positive, got {value}")
        self._max_grad_norm = value

    def _clip_divisor(self) -> Optional[torch.Tensor]:
        """total norm / max_grad_norm when above 1 (else 1), as `clip_grad_norm_` computes it."""
        if self._max_grad_norm is None:
            return None
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return None
        norms = torch._foreach_norm(grads, 2.0)
        total = torch.linalg.vector_norm(torch.stack([norm.to(grads[0].device) for norm in norms]), 2.0)
        # clip_grad_norm_ multiplies by min(1, max_norm / (total + 1e-6)); its inverse divides.
        return ((total + 1e-6) / self._max_grad_norm).clamp(min=1.0).to(torch.float32)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        divisor = self._clip_divisor()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            grads, exp_avgs, exp_avg_sqs = [], [], []
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError("spert_adamw does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                grads.append(p.grad)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
            # The fused kernel corrects the bias from a step count (and scales eps with it, unlike
            # transformers): given a huge count, both corrections are exactly 1, which switches
            # them off; with bias correction the foreach path below is used.
            fused = self._fused and not group["correct_bias"] and params[0].is_floating_point()
            if fused and len({(p.device, p.dtype) for p in params}) == 1:
                device = params[0].device
                if device not in self._no_bias_correction_steps:
                    self._no_bias_correction_steps[device] = torch.tensor(_NO_BIAS_CORRECTION, device=device)
                torch._fused_adamw_(
                    params,
                    grads,
                    exp_avgs,
                    exp_avg_sqs,
                    [],
                    [self._no_bias_correction_steps[device]] * len(params),
                    amsgrad=False,
                    lr=group["lr"],
                    beta1=beta1,
                    beta2=beta2,
                    # The kernel decays before the Adam step; transformers' AdamW after it.
                    weight_decay=0.0,
                    eps=group["eps"],
                    maximize=False,
                    # The kernel divides each gradient by grad_scale as it reads it: clipping for free.
                    grad_scale=None if divisor is None else divisor.to(device),
                    found_inf=None,
                )
            else:
                if divisor is not None:
                    torch._foreach_div_(grads, divisor.to(grads[0].device))
                step_sizes = []
                for p in params:
                    step_size = group["lr"]
                    if group["correct_bias"]:
                        step = self.state[p]["step"]
                        step_size *= math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
                    step_sizes.append(-step_size)
                # The same arithmetic as transformers' AdamW, over all tensors of the group at once.
                torch._foreach_mul_(exp_avgs, beta1)
                torch._foreach_add_(exp_avgs, grads, alpha=1.0 - beta1)
                torch._foreach_mul_(exp_avg_sqs, beta2)
                torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1.0 - beta2)
                denominators = torch._foreach_sqrt(exp_avg_sqs)
                torch._foreach_add_(denominators, group["eps"])
                torch._foreach_addcdiv_(params, exp_avgs, denominators, step_sizes)
            if group["weight_decay"] > 0.0:
                torch._foreach_mul_(params, 1.0 - group["lr"] * group["weight_decay"])
        return loss
