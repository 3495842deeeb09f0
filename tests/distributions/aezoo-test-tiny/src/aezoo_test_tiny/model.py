import torch
from torch import nn


class TinyAE(nn.Module):
    def __init__(self, features: int, latent: int) -> None:
        super().__init__()
        self.encoder = nn.Linear(features, latent)
        self.decoder = nn.Linear(latent, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.relu(self.encoder(x)))


def build(features: int = 16, latent: int = 4) -> TinyAE:
    return TinyAE(features, latent)
