# Phase 2: Push down attachment levels (section 10.2, the normalization algorithm)
# Source: W3C, "The RDF Data Cube Vocabulary", W3C Recommendation 16 January 2014,
#   https://www.w3.org/TR/2014/REC-vocab-data-cube-20140116/ (section 10.2, normalization algorithm). Copyright (c) 2014 W3C (MIT, ERCIM,
#   Keio, Beihang). The query below is the recommendation's, unmodified; the comment lines above it give its
#   title and summarise its rule. Licence: see README.md in this folder.
PREFIX rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX qb:      <http://purl.org/linked-data/cube#>

# Dataset attachments
INSERT {
    ?obs  ?comp ?value
} WHERE {
    ?spec    qb:componentProperty ?comp ;
             qb:componentAttachment qb:DataSet .
    ?dataset qb:structure [qb:component ?spec];
             ?comp ?value .
    ?obs     qb:dataSet ?dataset.
};

# Slice attachments
INSERT {
    ?obs  ?comp ?value
} WHERE {
    ?spec    qb:componentProperty ?comp;
             qb:componentAttachment qb:Slice .
    ?dataset qb:structure [qb:component ?spec];
             qb:slice ?slice .
    ?slice ?comp ?value;
           qb:observation ?obs .
};

# Dimension values on slices
INSERT {
    ?obs  ?comp ?value
} WHERE {
    ?spec    qb:componentProperty ?comp .
    ?comp a  qb:DimensionProperty .
    ?dataset qb:structure [qb:component ?spec];
             qb:slice ?slice .
    ?slice ?comp ?value;
           qb:observation ?obs .
}
