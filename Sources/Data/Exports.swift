// `import Data` brings AutoGrad's Tensor and Variable along, as `import torch.nn` users expect.
@_exported import AutoGrad
