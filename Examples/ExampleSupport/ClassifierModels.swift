import NN

/// The classifiers example-cnn trains; example-gan rebuilds `cnn` to load its checkpoint as a judge of
/// generated samples.
public enum CNNModel: String, CaseIterable, Sendable {
    /// W2: Conv2d(1→32, 3×3), ReLU, MaxPool 2, Flatten, Linear 5408→128, ReLU, Linear 128→10 (28×28 input).
    case cnn
    /// W3: LeNet-5 on 32×32 input: two 5×5 conv + pool stages, then Linear 400→120→84→10.
    case lenet5

    /// The side of the square input images the model expects.
    public var inputSize: Int { self == .cnn ? 28 : 32 }

    /// A freshly initialised network for images with `inputChannels` channels, producing 10 logits.
    public func make(inputChannels: Int) -> Sequential {
        switch self {
        case .cnn:
            return Sequential(
                Conv2d(inputChannels, 32, kernelSize: (3, 3)), ReLU(), MaxPool2d(kernelSize: (2, 2)), Flatten(),
                Linear(32 * 13 * 13, 128), ReLU(), Linear(128, 10))
        case .lenet5:
            return Sequential(
                Conv2d(inputChannels, 6, kernelSize: (5, 5)), ReLU(), MaxPool2d(kernelSize: (2, 2)),
                Conv2d(6, 16, kernelSize: (5, 5)), ReLU(), MaxPool2d(kernelSize: (2, 2)), Flatten(),
                Linear(400, 120), ReLU(), Linear(120, 84), ReLU(), Linear(84, 10))
        }
    }
}
