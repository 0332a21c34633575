import torch
from allennlp.training.learning_rate_schedulers import LearningRateScheduler, PolynomialDecay


@LearningRateScheduler.register("linear_warmup_fraction")
class LinearWarmupFraction(PolynomialDecay):
    """
    Linear warm-up over the first `warmup_fraction` of all training steps, then linear decay to 0
    (SpERT's schedule). Unlike AllenNLP's `linear_with_warmup`, the warm-up is a fraction, so one
    config value serves every dataset size, epoch count and batch size.

    Registered as a `LearningRateScheduler` with name "linear_warmup_fraction". `num_epochs` and
    `num_steps_per_epoch` are filled in by the trainer.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        num_epochs: int,
        num_steps_per_epoch: int,
        warmup_fraction: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        warmup_steps = int(round(warmup_fraction * num_epochs * num_steps_per_epoch))
        super().__init__(
            optimizer,
            num_epochs,
            num_steps_per_epoch,
            power=1.0,
            warmup_steps=warmup_steps,
            end_learning_rate=0.0,
            last_epoch=last_epoch,
        )
