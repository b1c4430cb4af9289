from pivot.domain.specs import Dep as Dep
from pivot.domain.specs import DirectoryOut as DirectoryOut
from pivot.domain.specs import IncrementalOut as IncrementalOut
from pivot.domain.specs import Metric as Metric
from pivot.domain.specs import Out as Out
from pivot.domain.specs import OutKind as OutKind
from pivot.domain.specs import PlaceholderDep as PlaceholderDep
from pivot.domain.specs import Plot as Plot
