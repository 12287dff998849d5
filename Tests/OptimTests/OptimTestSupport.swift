import Testing
@testable import Optim
