/// Submodules held in a list, named by position (PyTorch's `nn.ModuleList`): `0.weight`, `1.weight`, ….
///
/// A container, not a layer: it has no ``Module/forward(_:)``; the module that owns it decides how its
/// elements are applied. Names follow positions, so inserting or removing renumbers the later elements, as
/// in PyTorch (and as a checkpoint saved after the change will show).
///
/// ```swift
/// final class Tower: Module {
///     let blocks = ModuleList((0..<3).map { _ in Linear(16, 16) })
///     override func forward(_ x: Variable) -> Variable { blocks.reduce(x) { relu($1($0)) } }
/// }
/// print(Tower().stateDict().keys.sorted())   // ["blocks.0.bias", "blocks.0.weight", "blocks.1.bias", …]
/// ```
public final class ModuleList: Module, RandomAccessCollection {
    /// The elements, kept in a class so that reflection does not also list them under the property's name.
    private final class Storage {
        var modules: [Module]
        init(_ modules: [Module]) { self.modules = modules }
    }

    private let storage: Storage

    /// A list of `modules`, in order.
    public init(_ modules: [Module] = []) {
        storage = Storage(modules)
        super.init()
    }

    /// A list of the given modules.
    public convenience init(_ modules: Module...) { self.init(modules) }

    override func directMembers() -> [(name: String, member: Member)] {
        storage.modules.enumerated().map { ("\($0.offset)", .module($0.element)) } + super.directMembers()
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of modules.
    public var endIndex: Int { storage.modules.count }

    /// The module at `index`; setting replaces it (PyTorch's `list[i] = m`).
    ///
    /// - Precondition: `0 ≤ index < count`.
    public subscript(index: Int) -> Module {
        get {
            checkIndex(index, "subscript")
            return storage.modules[index]
        }
        set {
            checkIndex(index, "subscript")
            storage.modules[index] = newValue
        }
    }

    /// Adds `module` at the end.
    public func append(_ module: Module) { storage.modules.append(module) }

    /// Adds `modules` at the end, in order (PyTorch's `extend`).
    public func append(contentsOf modules: [Module]) { storage.modules.append(contentsOf: modules) }

    /// Inserts `module` before position `index`; later modules move up one position.
    ///
    /// - Precondition: `0 ≤ index ≤ count`.
    public func insert(_ module: Module, at index: Int) {
        precondition(index >= 0 && index <= count, "ModuleList.insert: index \(index) out of range for \(count) modules")
        storage.modules.insert(module, at: index)
    }

    /// Removes and returns the module at `index`; later modules move down one position (PyTorch's `pop`).
    ///
    /// - Precondition: `0 ≤ index < count`.
    @discardableResult
    public func remove(at index: Int) -> Module {
        checkIndex(index, "remove(at:)")
        return storage.modules.remove(at: index)
    }

    private func checkIndex(_ index: Int, _ op: String) {
        precondition(index >= 0 && index < count, "ModuleList.\(op): index \(index) out of range for \(count) modules")
    }
}

/// Submodules held by name, in insertion order (PyTorch's `nn.ModuleDict`): `name.weight`, ….
///
/// Like ``ModuleList`` a container without a ``Module/forward(_:)``. Assigning to an existing name replaces the
/// module in its place; assigning nil removes it.
///
/// ```swift
/// let heads = ModuleDict(["classify": Linear(64, 10), "regress": Linear(64, 1)])
/// let logits = heads["classify"]!(features)
/// print(heads.stateDict().keys.sorted())   // ["classify.bias", "classify.weight", "regress.bias", "regress.weight"]
/// ```
public final class ModuleDict: Module, Sequence {
    /// The entries, kept in a class so that reflection does not list them again.
    private final class Storage {
        var keys: [String] = []
        var modules: [String: Module] = [:]
    }

    private let storage = Storage()

    /// A dictionary of `entries`, in the given order.
    ///
    /// - Precondition: the names are distinct, non-empty and have no dots.
    public init(_ entries: KeyValuePairs<String, Module> = [:]) {
        super.init()
        for (name, module) in entries {
            precondition(storage.modules[name] == nil, "ModuleDict: the name \"\(name)\" is given twice")
            self[name] = module
        }
    }

    override func directMembers() -> [(name: String, member: Member)] {
        storage.keys.map { ($0, .module(storage.modules[$0]!)) } + super.directMembers()
    }

    /// The names, in insertion order.
    public var keys: [String] { storage.keys }
    /// The modules, in insertion order.
    public var values: [Module] { storage.keys.map { storage.modules[$0]! } }
    /// The number of entries.
    public var count: Int { storage.keys.count }

    /// The module called `name`, or nil. Setting a new name appends it; setting an existing name replaces its
    /// module in place; setting nil removes the entry.
    ///
    /// - Precondition (setting): `name` is non-empty and has no dot (it becomes part of dotted state names).
    public subscript(name: String) -> Module? {
        get { storage.modules[name] }
        set {
            precondition(!name.isEmpty && !name.contains("."), "ModuleDict: invalid name \"\(name)\" (must be non-empty, without dots)")
            if let newValue {
                if storage.modules.updateValue(newValue, forKey: name) == nil { storage.keys.append(name) }
            } else if storage.modules.removeValue(forKey: name) != nil {
                storage.keys.removeAll { $0 == name }
            }
        }
    }

    /// The entries in insertion order.
    public func makeIterator() -> IndexingIterator<[(key: String, module: Module)]> {
        storage.keys.map { (key: $0, module: storage.modules[$0]!) }.makeIterator()
    }
}
