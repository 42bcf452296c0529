// Checks RDF files with the OWL API and HermiT bundled in owlready2's HermiT.jar, as Protege users load them:
// every file is parsed by the OWL API; unless --parse-only is given, the parsed ontologies are merged, the merged
// ontology is checked against the OWL 2 DL profile, and HermiT, with its default configuration (no ignored
// datatypes), tests its consistency and lists the unsatisfiable classes. Each file is parsed on its own, so a file
// that uses terms declared in another one must be merged with it first (pass one file holding both).
//
// Run with the Java single-file launcher (Java 11 or newer):
//   java -cp .../owlready2/hermit/HermiT.jar tools/owlcheck/OwlCheck.java [--parse-only] [--instances=IRI]... FILE...
// Output, one fact a line, tab-separated:
//   PARSED <file> <number of axioms> | PROFILE <violation> | CONSISTENT true|false | UNSATISFIABLE <class IRI>
//   | INSTANCE <class IRI> <individual IRI> (the individuals HermiT infers for each class asked with --instances)
// Exit status: 0 when every file parses and HermiT runs, 1 when a file does not parse (the OWL API's message is
// printed), 2 on misuse, 3 when HermiT refuses the ontology (REASONER-ERROR, e.g. an unsupported datatype).

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLNamedIndividual;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.semanticweb.owlapi.util.OWLOntologyMerger;

public class OwlCheck {
    public static void main(String[] args) throws Exception {
        boolean parseOnly = false;
        List<String> names = new ArrayList<>();
        List<String> instancesOf = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--parse-only")) {
                parseOnly = true;
            } else if (a.startsWith("--instances=")) {
                instancesOf.add(a.substring("--instances=".length()));
            } else {
                names.add(a);
            }
        }
        if (names.isEmpty()) {
            System.err.println("usage: OwlCheck [--parse-only] FILE...");
            System.exit(2);
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
        List<OWLOntology> loaded = new ArrayList<>();
        for (String name : names) {
            File file = new File(name);
            try {
                OWLOntology o = manager.loadOntologyFromOntologyDocument(new FileDocumentSource(file), config);
                System.out.println("PARSED\t" + name + "\t" + o.getAxiomCount());
                loaded.add(o);
            } catch (Exception e) {
                String message = String.valueOf(e.getMessage());
                System.out.println("UNPARSABLE\t" + name + "\t" + message.split("\n")[0]);
                System.exit(1);
            }
        }
        if (parseOnly) {
            return;
        }
        OWLOntology merged = new OWLOntologyMerger(manager)
            .createMergedOntology(manager, IRI.create("urn:interfirm-kg:owlcheck:merged"));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(merged);
        Set<String> violations = new TreeSet<>();
        for (OWLProfileViolation v : report.getViolations()) {
            violations.add(v.toString().replace('\n', ' '));
        }
        for (String v : violations) {
            System.out.println("PROFILE\t" + v);
        }
        Reasoner hermit;
        try {
            hermit = new Reasoner(merged);  // HermiT's default Configuration
        } catch (RuntimeException e) {
            System.out.println("REASONER-ERROR\t" + String.valueOf(e.getMessage()).replace('\n', ' '));
            System.exit(3);
            return;
        }
        boolean consistent = hermit.isConsistent();
        System.out.println("CONSISTENT\t" + consistent);
        if (consistent) {
            Set<String> unsatisfiable = new TreeSet<>();
            for (OWLClass c : hermit.getUnsatisfiableClasses().getEntitiesMinusBottom()) {
                unsatisfiable.add(c.getIRI().toString());
            }
            for (String iri : unsatisfiable) {
                System.out.println("UNSATISFIABLE\t" + iri);
            }
            for (String cls : instancesOf) {
                OWLClass c = manager.getOWLDataFactory().getOWLClass(IRI.create(cls));
                Set<String> members = new TreeSet<>();
                for (OWLNamedIndividual i : hermit.getInstances(c, false).getFlattened()) {
                    members.add(i.getIRI().toString());
                }
                for (String iri : members) {
                    System.out.println("INSTANCE\t" + cls + "\t" + iri);
                }
            }
        }
        hermit.dispose();
    }
}
