# A small stand-in for nixpkgs' module system (lib/modules.nix,
# lib/types.nix, lib/options.nix), written from its documented behaviour,
# so that nix/sd-image.nix, the flake template and nixpkgs-shaped modules
# (stub-nixpkgs/nixos/) are evaluated the way NixOS evaluates them:
#
#  - modules: paths, functions or attribute sets, with `imports` (a path
#    imported twice is one module: its key is the path), `options`,
#    `config` or the shorthand, `_file`, `key`, `freeformType`; module
#    arguments config, options, lib, extendModules, specialArgs and
#    config._module.args.* (pkgs);
#  - declarations: one option per name -- a second declaration of the same
#    option is the error nixpkgs gives ("... is already declared in ...");
#    declarations nested under a submodule-typed option extend it;
#  - definitions: mkIf, mkMerge, mkOverride (mkDefault, mkForce, option
#    defaults at 1500) with nixpkgs' priorities; a definition of an option
#    that nobody declared is an error ("The option `x' does not exist");
#  - types: check and merge as nixpkgs' (str/bool/int equal definitions
#    only, package/raw/uniq one definition only, lists concatenated, lines
#    joined, attrsOf/lazyAttrsOf per attribute, submodules evaluated as
#    modules, freeform submodules, deferred modules).
# Not here: mkOrder, disabledModules, readOnly, option documentation.
{ lib }:
let
  inherit (builtins)
    all any attrNames concatLists concatMap concatStringsSep elemAt filter
    foldl' functionArgs genericClosure hasAttr head isAttrs isBool isFunction
    isInt isList isPath isString length listToAttrs map mapAttrs removeAttrs tail;

  showLoc = concatStringsSep ".";
  isKind = kind: x: isAttrs x && (x._type or null) == kind;
  uniqueNames = names: attrNames (listToAttrs (map (name: { inherit name; value = null; }) names));
  imap = f: list: builtins.genList (i: f i (elemAt list i)) (length list);

  # ---- definitions ---------------------------------------------------------
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  defaultPriority = 100;

  # A definition of a namespace: its plain attribute sets, mkIf/mkOverride
  # pushed into their attributes without evaluating any condition.
  pushDown = v:
    if isKind "merge" v then concatMap pushDown v.contents
    else if isKind "if" v then map (mapAttrs (_: mkIf v.condition)) (pushDown v.content)
    else if isKind "override" v then map (mapAttrs (_: mkOverride v.priority)) (pushDown v.content)
    else [ v ];

  # A definition of an option: its values with priorities, conditions evaluated.
  discharge = priority: v:
    if isKind "merge" v then concatMap (discharge priority) v.contents
    else if isKind "if" v then (if v.condition then discharge priority v.content else [ ])
    else if isKind "override" v then discharge v.priority v.content
    else [ { value = v; inherit priority; } ];

  # defs: [ { file; value; } ] of one option -> { isDefined; value; files; }
  mergeDefinitions = loc: type: defs:
    let
      all' = concatMap (d: map (x: x // { inherit (d) file; }) (discharge defaultPriority d.value)) defs;
      best = foldl' (m: d: if d.priority < m then d.priority else m) 10000 all';
      winners = filter (d: d.priority == best) all';
      checked = map
        (d: if type.check d.value then d else
        throw "A definition for option `${showLoc loc}' is not of type `${type.description}'. Definition values: in `${d.file}'.")
        winners;
    in
    {
      isDefined = winners != [ ];
      files = map (d: d.file) winners;
      value = type.merge loc checked;
    };

  # ---- types -----------------------------------------------------------------
  mergeEqual = loc: defs: foldl'
    (v: d: if d.value == v then v else
    throw "The option `${showLoc loc}' has conflicting definition values: in `${(head defs).file}' and `${d.file}'.")
    (head defs).value
    (tail defs);
  mergeOne = loc: defs:
    if length defs == 1 then (head defs).value else
    throw "The option `${showLoc loc}' is defined multiple times while it's expected to be unique. Definition values: in ${concatStringsSep ", " (map (d: "`${d.file}'") defs)}.";
  mergeDefault = loc: defs:
    let values = map (d: d.value) defs; in
    if length defs == 1 then head values
    else if all isList values then concatLists values
    else if all isAttrs values then foldl' (a: b: a // b) { } values
    else mergeEqual loc defs;

  mkOptionType = { name, description ? name, check ? (_: true), merge ? mergeDefault, ... }@t:
    t // { _type = "option-type"; inherit name description check merge; };

  isDerivation = x: isAttrs x && (x.type or null) == "derivation";
  isStorePath = x: (isString x || isPath x) && builtins.match "/nix/store/[^/]+" (toString x) != null;

  attrsOfWith = lazy: elemType: mkOptionType {
    name = if lazy then "lazyAttrsOf" else "attrsOf";
    description = "attribute set of ${elemType.description}";
    check = isAttrs;
    merge = loc: defs:
      let
        names = uniqueNames (concatMap (d: attrNames d.value) defs);
        merged = name: mergeDefinitions (loc ++ [ name ]) elemType
          (map (d: { inherit (d) file; value = d.value.${name}; }) (filter (d: d.value ? ${name}) defs));
        value = name: let m = merged name; in
          if m.isDefined then m.value else throw "The option `${showLoc (loc ++ [ name ])}' is used but not defined.";
      in
      listToAttrs (map (name: { inherit name; value = value name; })
        (if lazy then names else filter (name: (merged name).isDefined) names));
  };

  submoduleWith = { modules, specialArgs ? { } }: mkOptionType {
    name = "submodule";
    check = x: isAttrs x || isFunction x;
    merge = loc: defs: (evalModules {
      modules = modules ++ map (d: { _file = d.file; imports = [ d.value ]; }) defs;
      specialArgs = { name = lib.last loc; } // specialArgs;
      prefix = loc;
    }).config;
    # more option declarations (nested under this option in another module)
    extend = more: submoduleWith { modules = modules ++ more; inherit specialArgs; };
  };

  either = a: b: mkOptionType {
    name = "either";
    description = "${a.description} or ${b.description}";
    check = x: a.check x || b.check x;
    merge = loc: defs:
      if all (d: a.check d.value) defs then a.merge loc defs
      else if all (d: b.check d.value) defs then b.merge loc defs
      else mergeEqual loc defs;
  };

  types = rec {
    raw = mkOptionType { name = "raw"; merge = mergeOne; };
    unspecified = mkOptionType { name = "unspecified"; };
    str = mkOptionType { name = "str"; description = "string"; check = isString; merge = mergeEqual; };
    lines = mkOptionType {
      name = "lines";
      description = "strings concatenated with \"\\n\"";
      check = isString;
      merge = _: defs: concatStringsSep "\n" (map (d: d.value) defs);
    };
    bool = mkOptionType { name = "bool"; description = "boolean"; check = isBool; merge = mergeEqual; };
    int = mkOptionType { name = "int"; description = "signed integer"; check = isInt; merge = mergeEqual; };
    ints.unsigned = mkOptionType { name = "unsignedInt"; description = "unsigned integer"; check = x: isInt x && x >= 0; merge = mergeEqual; };
    path = mkOptionType { name = "path"; check = x: isPath x || (isString x && builtins.substring 0 1 x == "/"); merge = mergeEqual; };
    package = mkOptionType {
      name = "package";
      check = x: isDerivation x || isStorePath x;
      merge = mergeOne;
    };
    enum = values: mkOptionType {
      name = "enum";
      description = "one of ${concatStringsSep ", " (map builtins.toJSON values)}";
      check = x: builtins.elem x values;
      merge = mergeEqual;
    };
    uniq = t: t // { merge = mergeOne; };
    nullOr = t: mkOptionType {
      name = "nullOr";
      description = "null or ${t.description}";
      check = x: x == null || t.check x;
      merge = loc: defs:
        if all (d: d.value == null) defs then null
        else if any (d: d.value == null) defs then mergeEqual loc defs
        else t.merge loc defs;
    };
    inherit either;
    oneOf = ts: foldl' either (head ts) (tail ts);
    listOf = t: mkOptionType {
      name = "listOf";
      description = "list of ${t.description}";
      check = x: isList x && all t.check x;
      merge = _: defs: concatMap (d: d.value) defs;
    };
    attrsOf = attrsOfWith false;
    lazyAttrsOf = attrsOfWith true;
    inherit submoduleWith;
    submodule = m: submoduleWith { modules = [ m ]; };
    deferredModule = mkOptionType {
      name = "deferredModule";
      description = "module";
      check = x: isAttrs x || isFunction x || isPath x;
      merge = _: defs: { imports = map (d: { _file = d.file; imports = [ d.value ]; }) defs; };
    };
  };

  # ---- options ---------------------------------------------------------------
  mkOption = attrs: attrs // { _type = "option"; };
  literalExpression = text: { _type = "literalExpression"; inherit text; };

  # The declaration tree of all modules: leaves { _type = "stub-decl"; option;
  # file; }, namespaces attribute sets of such trees.
  mergeDecls = loc: ds:
    let
      opts = filter (d: isKind "option" d.value) ds;
      sets = filter (d: !(isKind "option" d.value)) ds;
      names = uniqueNames (concatMap (d: attrNames d.value) sets);
      opt = head opts;
      type = opt.value.type or types.unspecified;
    in
    if length opts > 1 then
      throw "The option `${showLoc loc}' in `${(elemAt opts 1).file}' is already declared in `${opt.file}'."
    else if opts != [ ] && sets != [ ] then
      if type ? extend then {
        _type = "stub-decl";
        inherit (opt) file;
        option = opt.value // { type = type.extend (map (d: { _file = d.file; options = d.value; }) sets); };
      }
      else throw "The option `${showLoc loc}' in `${opt.file}' is a prefix of options declared in `${(head sets).file}'."
    else if opts != [ ] then { _type = "stub-decl"; inherit (opt) file; option = opt.value; }
    else listToAttrs (map
      (name: {
        inherit name;
        value = mergeDecls (loc ++ [ name ])
          (map (d: { inherit (d) file; value = d.value.${name}; }) (filter (d: d.value ? ${name}) sets));
      })
      names);

  # the path to the first value in a definition (for messages)
  firstPath = v:
    if isAttrs v && !(v ? _type) && v != { } then [ (head (attrNames v)) ] ++ firstPath v.${head (attrNames v)}
    else [ ];

  # definitions of a namespace's attribute `name`
  select = name: flat: map (d: { inherit (d) file; value = d.value.${name}; }) (filter (d: d.value ? ${name}) flat);
  flatten = defs: concatMap (d: map (value: { inherit (d) file; inherit value; }) (pushDown d.value)) defs;

  evalModules = { modules, specialArgs ? { }, prefix ? [ ] }@args0:
    let
      extendModules = { modules ? [ ], specialArgs ? { } }: evalModules {
        modules = args0.modules ++ modules;
        specialArgs = (args0.specialArgs or { }) // specialArgs;
        inherit prefix;
      };

      internal = {
        _file = "stub-nixpkgs/lib/modules.nix";
        options._module.args = mkOption { type = types.lazyAttrsOf types.raw; default = { }; };
      };

      argsOf = file: f: mapAttrs
        (name: _:
          if name == "config" then config
          else if name == "options" then options
          else if name == "lib" then lib
          else if name == "extendModules" then extendModules
          else if specialArgs ? ${name} then specialArgs.${name}
          else config._module.args.${name}
            or (throw "stub evalModules: `${file}' needs the module argument `${name}', which nothing provides"))
        (functionArgs f);

      load = parentFile: key: m:
        let
          fromFile = isPath m || isString m;
          file = if fromFile then toString m else parentFile;
          imported = if fromFile then import m else m;
          v = if isFunction imported then imported (argsOf file imported) else imported;
          file' = v._file or file;
          key' = if fromFile then toString m else v.key or key;
        in
        {
          key = key';
          file = file';
          imports = imap (i: load file' "${key'}:anon-${toString i}") (v.imports or [ ]);
          options = v.options or { };
          freeformType = v.freeformType or null;
          config =
            if v ? options || v ? config then v.config or { }
            else removeAttrs v [ "_file" "key" "imports" "freeformType" "disabledModules" "meta" ];
        };

      collected = genericClosure {
        startSet = imap (i: load "<evalModules ${showLoc prefix}>" "${showLoc prefix}:anon-${toString i}") ([ internal ] ++ modules);
        operator = m: m.imports;
      };

      decls = mergeDecls prefix (map (m: { inherit (m) file; value = m.options; }) collected);
      defs = map (m: { inherit (m) file; value = m.config; }) collected;
      freeformTypes = filter (t: t != null) (map (m: m.freeformType) collected);

      optionOf = loc: leaf: ds:
        let
          opt = leaf.option;
          type = opt.type or types.unspecified;
          merged = mergeDefinitions loc type
            (ds ++ (if opt ? default then [ { inherit (leaf) file; value = mkOptionDefault opt.default; } ] else [ ]));
          value =
            if merged.isDefined then merged.value
            else throw "The option `${showLoc loc}' is used but not defined.";
        in
        removeAttrs opt [ "apply" ] // {
          value = if opt ? apply then opt.apply value else value;
          inherit (merged) isDefined files;
          declarations = [ leaf.file ];
          inherit loc;
        };

      # the options tree, each option with its value (declarations only
      # decide its shape: modules may look at `options` in `config`)
      tree = loc: node: ds:
        if isKind "stub-decl" node then optionOf loc node ds
        else let flat = flatten ds; in mapAttrs (name: sub: tree (loc ++ [ name ]) sub (select name flat)) node;
      options = tree prefix decls defs;

      valuesOf = t: if isKind "option" t then t.value else mapAttrs (_: valuesOf) t;
      declared = valuesOf options;
      config =
        if freeformTypes == [ ] then declared
        else
          let
            flat = flatten defs;
            extra = filter (d: d.value != { }) (map (d: { inherit (d) file; value = removeAttrs d.value (attrNames decls); }) flat);
          in
          (head freeformTypes).merge prefix extra // declared;

      # Definitions of options nobody declared: the first one's message.
      unknown = loc: node: ds:
        if isKind "stub-decl" node then [ ]
        else
          let flat = flatten ds; in
          concatMap
            (d: map (name: "The option `${showLoc (loc ++ [ name ] ++ firstPath d.value.${name})}' does not exist. Definition values: in `${d.file}'.")
              (filter (name: !(hasAttr name node)) (attrNames d.value)))
            (if loc == prefix && freeformTypes != [ ] then [ ] else flat)
          ++ concatMap (name: unknown (loc ++ [ name ]) node.${name} (select name flat)) (attrNames node);
      problems = unknown prefix decls defs;
      checked = x: if problems == [ ] then x else throw (head problems);
    in
    {
      config = checked (removeAttrs config [ "_module" ]);
      options = checked options;
      inherit extendModules;
      type = submoduleWith { inherit modules specialArgs; };
    };

  # ---- option modules (lib/modules.nix) ------------------------------------------------
  setAttrByPath = path: value: if path == [ ] then value else { ${head path} = setAttrByPath (tail path) value; };
  getAttrFromPath = path: set: foldl' (s: n: s.${n}) set path;

  mkRemovedOptionModule = from: message: { options, ... }: {
    options = setAttrByPath from (mkOption { visible = false; description = "removed: ${message}"; });
    config._module.args = mkIf (getAttrFromPath from options).isDefined
      (throw "The option `${showLoc from}' can no longer be used since it's been removed. ${message}");
  };
  mkRenamedOptionModuleWith = { from, to, sinceRelease }: { options, ... }: {
    options = setAttrByPath from (mkOption { visible = false; description = "renamed to ${showLoc to} in ${toString sinceRelease}"; });
    config = setAttrByPath to (mkIf (getAttrFromPath from options).isDefined (getAttrFromPath from options).value);
  };
in
{
  inherit evalModules mkOption mkOptionType literalExpression types mkIf mkMerge mkOverride
    mkDefault mkForce mkOptionDefault mkRemovedOptionModule mkRenamedOptionModuleWith
    setAttrByPath getAttrFromPath isDerivation;
}
