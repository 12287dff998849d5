import Testing
@testable import Data
