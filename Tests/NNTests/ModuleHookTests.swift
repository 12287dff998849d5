import Testing
@testable import NN

@Suite struct ModuleHookTests {
    @Test func hooksSeeInputAndOutputAndCanReplaceThem() {
        let layer = Linear(3, 2, generator: RandomGenerator(seed: 1))
        let x = Variable(Tensor.randn([4, 3], generator: RandomGenerator(seed: 2)))
        let plain = layer(x).value
        var seen: [String] = []
        let pre = layer.registerForwardPreHook { module, input in
            seen.append("pre \(module === layer) \(input.shape)")
            return input * 2
        }
        let post = layer.registerForwardHook { _, input, output in
            seen.append("post \(input.shape) \(output.shape)")
            #expect(input.value.doubles == (x.value * 2).doubles)
            return output + 1
        }
        let hooked = layer(x).value
        #expect(seen == ["pre true [4, 3]", "post [4, 3] [4, 2]"])
        // W(2x) + b + 1 = 2(Wx + b) − b + 1.
        let expected = plain * 2 - layer.bias!.value + 1
        #expect(zip(hooked.doubles, expected.doubles).allSatisfy { abs($0 - $1) < 1e-5 })
        pre.remove()
        post.remove()
        post.remove()
        #expect(layer(x).value.doubles == plain.doubles && seen.count == 2)
    }

    @Test func hooksRunInRegistrationOrderAndOnSubmodulesInsideSequential() {
        let model = Sequential(Linear(3, 3), ReLU(), Linear(3, 1))
        var order: [String] = []
        var handles: [HookHandle] = []
        for (name, module) in model.namedModules() where !name.isEmpty {
            handles.append(module.registerForwardHook { _, _, _ in order.append(name); return nil })
        }
        handles.append(model.registerForwardHook { _, _, _ in order.append("a"); return nil })
        handles.append(model.registerForwardHook { _, _, _ in order.append("b"); return nil })
        _ = model(Variable(Tensor.ones([2, 3])))
        #expect(order == ["0", "1", "2", "a", "b"])
        handles[3].remove()
        order = []
        _ = model(Variable(Tensor.ones([2, 3])))
        #expect(order == ["0", "1", "2", "b"])
    }

    @Test func gradientsFlowThroughAReplacedOutput() {
        let layer = Linear(2, 1, bias: false)
        layer.registerForwardHook { _, _, output in output * 3 }
        let x = Variable(Tensor(shape: [1, 2], scalars: [1, 2] as [Float]))
        layer(x).sum().backward()
        #expect(layer.weight.grad!.doubles == [3, 6])
    }
}
