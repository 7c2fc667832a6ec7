mod legacy;
