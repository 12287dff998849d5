import NN
import Optim

// The swift snippets of the `///` comments of Optim as the comments show them (scripts/sync-doc-snippets.py copies
// them here, DocSnippetSyncTests fails when they differ), one function per snippet, grouped by source file. A
// function's parameters are what its snippet assumes; compiled, not run (the loops are a training run).

// MARK: Sources/Optim

func nonFiniteCheckComment(model: Module, optimizer: Optimizer, loader: [(Tensor, [Int])]) throws {
    // snippet: Sources/Optim/NonFiniteCheck.swift#1
    for (step, (x, y)) in loader.enumerated() {
        optimizer.zeroGrad()
        let loss = crossEntropy(model(Variable(x)), y)
        try NonFiniteCheck.loss(loss, step: step)
        loss.backward()
        try NonFiniteCheck.gradients(model.namedParameters(), step: step)
        optimizer.step()
    }
    // end snippet
}

func optimizerComment(model: Module, optimizer: Optimizer, x: Tensor, y: [Int]) {
    // snippet: Sources/Optim/Optimizer.swift#1
    optimizer.zeroGrad()
    let loss = crossEntropy(model(Variable(x)), y)
    loss.backward()
    optimizer.step()
    // end snippet
}

func parameterGroupComment(backbone: Module, head: Module) {
    // snippet: Sources/Optim/ParameterGroup.swift#1
    let optimizer = SGD(groups: [
        ParameterGroup(parameters: backbone.parameters(), learningRate: 1e-4),
        ParameterGroup(parameters: head.parameters(), weightDecay: 0) { $0.momentum = 0.5 },
    ], learningRate: 1e-2, momentum: 0.9, weightDecay: 5e-4)
    // end snippet
    _ = optimizer
}

// MARK: Sources/Optim/Optimizers

func lbfgsComment(model: Module, x: Tensor, y: Tensor) {
    // snippet: Sources/Optim/Optimizers/LBFGS.swift#1
    let optimizer = LBFGS(model.parameters(), lineSearch: .strongWolfe)
    for _ in 0..<10 {
        optimizer.step {
            optimizer.zeroGrad()
            let loss = mseLoss(model(Variable(x)), Variable(y))
            loss.backward()
            return loss.value.item
        }
    }
    // end snippet
}

// MARK: Sources/Optim/Schedules

func learningRateSchedulerComment(model: Module, train: (Int) -> Void) {
    // snippet: Sources/Optim/Schedules/LearningRateScheduler.swift#1
    let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
    let schedule = StepLR(optimizer, stepSize: 30, gamma: 0.1)
    for epoch in 0..<90 {
        train(epoch)                 // optimizer.step() per batch
        schedule.step()
    }
    // end snippet
}

func linearWarmupComment(optimizer: Optimizer) {
    // snippet: Sources/Optim/Schedules/LinearWarmup.swift#1
    let cosine = CosineAnnealingLR(optimizer, period: 95)
    let schedule = LinearWarmup(optimizer, startFactor: 0.01, totalEpochs: 5, then: cosine)
    // end snippet
    _ = schedule
}

func oneCycleLRComment(model: Module, epochs: Int, loader: [(Tensor, [Int])], trainStep: (Tensor, [Int]) -> Void) {
    // snippet: Sources/Optim/Schedules/OneCycleLR.swift#1
    let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
    let schedule = OneCycleLR(optimizer, maxLearningRate: 0.1, totalSteps: epochs * loader.count)
    for _ in 0..<epochs {
        for (x, y) in loader {
            trainStep(x, y)
            schedule.step()
        }
    }
    // end snippet
}
