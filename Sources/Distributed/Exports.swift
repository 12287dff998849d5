// `import Distributed` brings AutoGrad's Tensor and Variable along, as the collectives take and return them.
@_exported import AutoGrad
