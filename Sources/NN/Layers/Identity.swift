/// Returns its input unchanged (PyTorch's `nn.Identity`): a placeholder where a layer is optional.
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { x }
}
